/**
 * What a WebSocket relay is given: the Daytona target of the upgrade and the caller's options.
 * Shared by every step of the relay (ws/relay.ts), so it lives apart from any one of them.
 */
import type { GateError, PreviewTarget } from '../../../protocol/index.js';
import type { Logger } from '../../core/contracts.js';
import type { GoingAway } from '../ws-going-away.js';

export interface WebSocketTarget {
  /** `ws://` or `wss://` URL on Daytona's preview host, path and query included. */
  url: string;
  /** Headers Daytona needs (`X-Daytona-Preview-Token`, `X-Daytona-Skip-Preview-Warning`). */
  headers: Record<string, string>;
}

export interface RelayOptions {
  /** Request header names (any case) never sent upstream: the gateway's own credentials. */
  stripRequestHeaders?: string[];
  /** Cookie names never sent upstream; a name ending in `*` is a prefix. */
  stripCookies?: string[];
  /** Called once when both sockets are closed (or the relay gave up). */
  onClose?(): void;
  /** Called once the sockets are spliced, with the handle that closes them with 1001 (graceful shutdown). */
  onSpliced?(link: GoingAway): void;
  /** Connect `*.localhost` to 127.0.0.1 (Node does not resolve it). Default true. */
  resolveLocalhost?: boolean;
  /** The client-facing origin, for X-Forwarded-Proto. Default `http://{Host}`. */
  publicOrigin?: string;
  /**
   * The preview the core authorised (`authorizeUpgrade`): its target and the core's preview-origin
   * function, so a non-101 answer's `Location` on Daytona's host maps to the right preview origin
   * (sanitize-response.ts) without re-parsing Daytona's host. Absent: every cookie is dropped and
   * Location is left as it is.
   */
  preview?: { target: PreviewTarget; originOf(target: PreviewTarget): string };
  /** Time allowed for Daytona to answer the upgrade. Default 15 s. */
  timeoutMs?: number;
  /**
   * Daytona said the sandbox is stopped: the error to answer. Pass
   * `() => upstream.sandboxStopped(target.sandboxId)` so autoStart also wakes it from a
   * WebSocket. Default: GateError 'sandbox_stopped'.
   */
  onStopped?(): GateError;
  /**
   * Daytona's proxy answered 404 for the sandbox: the coded error to answer after asking the API
   * (a sandbox moving between runners answers 404 for a moment, create-upstream.ts#confirmGone).
   * Absent: `sandbox_not_found` at once.
   */
  onGone?(): Promise<GateError>;
  /**
   * Where the relay logs the upgrade's outcome (ws/relay.ts): `upgrade` once the upstream has
   * answered, with the status the client got and the upstream's own (`upstreamStatus`), and
   * `upgrade.closed` when a spliced relay ends. `fields` (host, path, user) go on both lines.
   * Absent: the relay logs nothing.
   */
  log?: { logger: Logger; fields: Record<string, unknown> };
  /** Called with the upstream's status once it answered the handshake (101 or not). */
  onAnswer?(upstreamStatus: number): void;
}
