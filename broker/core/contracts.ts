/**
 * The seams between the gateway's parts. Everything the portable core needs from the outside
 * world (Daytona, the network, time, storage, built browser assets) arrives through these
 * interfaces as parameters of `createGateway`, so the core imports nothing from `node:` and
 * tests can pass real local services or small fakes without module mocking.
 *
 *   credentials side (auth, tokens, store, broker API)  ──►  upstream side (Daytona, proxying)
 *
 * The credentials side decides *who* may reach *which* sandbox port and hands the upstream
 * side a request already stripped of every gateway credential. The upstream side adds
 * Daytona's token, streams the request to Daytona's preview proxy and the answer back.
 */
import type { PreviewTarget } from '../../protocol/index.js';

/** What the gateway needs to know about a sandbox (read through @daytonaio/sdk). */
export interface SandboxInfo {
  id: string;
  /** Daytona states: 'started', 'starting', 'stopped', 'stopping', 'error', 'archived', ... */
  state: string;
  labels: Record<string, string>;
  public: boolean;
}

/** Daytona's preview URL and token for one sandbox port (`sandbox.getPreviewLink(port)`). */
export interface PreviewLink {
  url: string;
  token: string;
  /**
   * True for a signed preview URL (`sandbox.getSignedPreviewUrl`): the credential is the host
   * itself (`{port}-{signedToken}.{domain}`), no `X-Daytona-Preview-Token` is sent, and it opens
   * that one port only. See docs/daytona.md, "Signed preview URLs".
   */
  signed?: boolean;
  /** When a signed URL stops working (epoch ms); the link cache renews it well before. */
  expiresAt?: number;
}

/**
 * Daytona as the gateway sees it. Implemented over the real @daytonaio/sdk in
 * `broker/node/daytona-sdk.ts`. Errors: a missing sandbox resolves `getSandbox` to null;
 * an unreachable API rejects with GateError('daytona_unavailable').
 */
export interface DaytonaPort {
  getSandbox(sandboxId: string): Promise<SandboxInfo | null>;
  getPreviewLink(sandboxId: string, port: number): Promise<PreviewLink>;
  startSandbox(sandboxId: string): Promise<void>;
  /**
   * A signed preview URL for one port, valid `expiresInSeconds` (1–86400): what the gateway
   * forwards with (ARCHITECTURE.md flow 13: the standard token opens every port, 22222 and 2280
   * included, and reaches a public sandbox's app). Optional only so that test doubles may omit
   * it; broker/node/daytona-sdk.ts always implements it.
   */
  getSignedPreviewLink?(sandboxId: string, port: number, expiresInSeconds: number): Promise<PreviewLink>;
}

/**
 * A fetch-shaped function. The Node entry passes one over node:http (no decompression,
 * keep-alive). It may also offer `send`, taking the parts of the request directly: the upstream
 * side then skips building a Web Request (and its AbortSignal), which that fetch would only
 * take apart again.
 */
export type FetchLike = ((request: Request) => Promise<Response>) & { send?(request: UpstreamRequestInit): Promise<Response> };

/** The parts of an upstream request, as `FetchLike.send` takes them (redirects are never followed). */
export interface UpstreamRequestInit {
  url: string;
  /**
   * Optional: the origin `url` starts with, when the caller split it already (upstream/forward.ts:
   * the link's origin, the same string on every request), so the fetch need not find it again.
   */
  origin?: string;
  method: string;
  /** A plain record is what the core builds (upstream/forward.ts upstreamHeaderRecord): lower-case names, one value each. */
  headers: Headers | Record<string, string>;
  /** Bytes (replayable) or a stream; null without a body. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** The client's AbortSignal, or the edge's cheaper stand-in (ForwardMeta.clientAbort). */
  signal: AbortSignal | AbortLike;
}

/**
 * The part of an AbortSignal the upstream side uses. An AbortSignal is one; a runtime edge may
 * pass a cheaper object (ForwardMeta.clientAbort): on Node 20 the client request's AbortSignal
 * (made on first read by @hono/node-server: createAbortSignal, makeTransferable) costs ~3% of a
 * small request (docs/benchmarks.md, "Hot path: before and after").
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Who is looking, once a preview-origin request has authenticated. */
export interface Principal {
  /** User id (`sub` of the host app's session), or `share:<id>` for a share link. */
  userId: string;
  /** Preview-session id, or the share-link id. */
  sessionId: string;
  kind: 'session' | 'share' | 'public';
}

/** The upstream side's entry points, used by the credentials side after authentication. */
export interface Upstream {
  /**
   * Forward one HTTP request to the sandbox port and stream the answer back. `request` is
   * already stripped of gateway credentials and carries the identity header; `forward` adds
   * Daytona's token and the skip-warning header, drops hop-by-hop headers (RFC 9110 §7.6.1),
   * retries once with a fresh Daytona token when Daytona rejects the cached one and the
   * request is safe to repeat, and maps a stopped sandbox to GateError('sandbox_stopped').
   */
  forward(request: Request, target: PreviewTarget, principal: Principal, meta?: ForwardMeta): Promise<Response>;
  /**
   * Where and with which headers the Node edge opens a WebSocket to the sandbox port. `path`
   * includes the query. `{fresh: true}` after Daytona refused the upgrade (rotated token).
   */
  webSocketTarget(target: PreviewTarget, path: string, options?: WebSocketTargetOptions): Promise<{ url: string; headers: Record<string, string> }>;
}

/** Facts about the client connection that the portable core cannot see (passed by the Node edge). */
export interface ForwardMeta {
  /** The client's IP address (socket peer); appended to X-Forwarded-For. */
  clientAddress?: string;
  /**
   * Aborts when the client goes away, exactly when the client request's `signal` would
   * (the edge's own hook, broker/node/client-abort.ts); used instead of that signal for a
   * replayable body. Absent: the request's signal.
   */
  clientAbort?: AbortLike;
}

export interface WebSocketTargetOptions {
  /** Re-fetch Daytona's preview link first (it rejected the cached token). */
  fresh?: boolean;
}

/** Built browser assets (by Vite into dist/), read by the Node entry and served by the core. */
export interface GatewayAssets {
  /** The Service Worker, served at /__gate/sw.js on every preview origin. */
  serviceWorker: string;
  /** The bootstrap script of the launch page, served at /__gate/bootstrap.js. */
  bootstrap: string;
  /** The embed script for host pages, served at /embed.js on the gateway's own origin. */
  embed: string;
  /** The WebSocket wrapper of the cookie-less worker path, served at /__gate/ws.js. */
  wsShim: string;
}

/** A clock in milliseconds, injectable so tests can move time. */
export type Clock = () => number;

/** Prometheus-style counters and histograms; the registry lives in broker/core/metrics.ts. */
export interface Metrics {
  inc(name: string, labels?: Record<string, string>, value?: number): void;
  observe(name: string, value: number, labels?: Record<string, string>): void;
}

/** One structured line per event. Never pass a secret (token, cookie, API key) in `fields`. */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  /** Detail for diagnosing (GATE_LOG_LEVEL=debug). Optional: loggers without it drop debug lines. */
  debug?(event: string, fields?: Record<string, unknown>): void;
  /** Whether lines of `level` are written (lets callers skip building them). Absent: all are. */
  enabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
  /**
   * A logger adding `fields` to every line (a request's `rid` and `client`: broker/core/ops.ts
   * `requestLog`). Optional: `childLogger` (logger.ts) wraps loggers without it.
   */
  with?(fields: Record<string, unknown>): Logger;
}
