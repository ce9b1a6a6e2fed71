/**
 * The postMessage protocol between a preview (its launch page, or a gateway error page) and
 * the page that embeds it. Version 1.
 *
 * Preview → parent (`window.parent.postMessage(msg, '*')`; the message holds no secret, and
 * the receiver checks `event.origin` and `event.source`):
 *
 *   { source: 'preview-gate', version: 1, type: 'launched', credentialPath: 'worker' | 'worker-only' | 'cookie' }
 *       the launch code was exchanged; the frame is about to load the app
 *   { source: 'preview-gate', version: 1, type: 'error', code, message, credentialPath? }
 *       the launch failed, or a navigation in the frame got a gateway error page
 *       (code: an ErrorCode of protocol/errors.ts, or one of PAGE_ERROR_CODES below)
 *   { source: 'preview-gate', version: 1, type: 'waiting', code: 'app_not_listening' | 'sandbox_starting', message }
 *       a navigation in the frame got the waiting page: the sandbox is starting, or nothing
 *       listens on the port yet; the page turns into the app by itself (sw/page/waiting.ts)
 *   { source: 'preview-gate', version: 1, type: 'relaunch', target: 'frame' | 'tab' }
 *       the person asked for a fresh link on a failure page; the embed mints one and loads
 *       it in the frame, or opens it in a new tab
 *
 * The embed never posts tokens into the frame: the launch code travels in the iframe's URL
 * fragment only. The frame's origin also runs the sandbox app's own (untrusted) scripts, which
 * can post any of these messages: the receiver (sw/embed/frame-messages.ts) validates every
 * field and caps `message`; the embed honours `relaunch` only after an `error`, within a
 * per-minute cap (sw/embed/lifecycle.ts).
 */
import type { ErrorCode } from '../../protocol/index.js';
import type { WaitingCode } from './failures.js';

export const MESSAGE_SOURCE = 'preview-gate';
export const MESSAGE_VERSION = 1;

/**
 * `worker`: the Service Worker attaches tokens, the exchange's cookie works too (fallback).
 * `worker-only`: the worker runs but the browser refuses every cookie here (WebKit's cross-site
 * iframe): EventSource goes through the worker and WebSockets take tickets (ws-shim.ts).
 * `cookie`: no worker; the cookie carries the session.
 */
export type CredentialPath = 'worker' | 'worker-only' | 'cookie';
/**
 * Error codes the browser side adds to the gateway's: `storage_refused` (this frame may keep
 * neither a cookie nor a Service Worker), `network_error` (the gateway could not be reached),
 * `popup_blocked` (the embed could not open the preview in a new tab).
 */
export const PAGE_ERROR_CODES = ['storage_refused', 'network_error', 'popup_blocked'] as const;
export type PageErrorCode = ErrorCode | (typeof PAGE_ERROR_CODES)[number];

export type PreviewGateMessage =
  | { source: typeof MESSAGE_SOURCE; version: 1; type: 'launched'; credentialPath: CredentialPath }
  | { source: typeof MESSAGE_SOURCE; version: 1; type: 'error'; code: PageErrorCode; message: string; credentialPath?: CredentialPath }
  | { source: typeof MESSAGE_SOURCE; version: 1; type: 'waiting'; code: WaitingCode; message: string }
  | { source: typeof MESSAGE_SOURCE; version: 1; type: 'relaunch'; target: 'frame' | 'tab' };

type Payload<T> = T extends unknown ? Omit<T, 'source' | 'version'> : never;

/** Posts to the embedding page, if there is one. Never throws. */
export function postToParent(message: Payload<PreviewGateMessage>): void {
  if (window.parent === window) return;
  try {
    window.parent.postMessage({ source: MESSAGE_SOURCE, version: MESSAGE_VERSION, ...message }, '*');
  } catch {
    // A detached or sandboxed parent: nothing to tell.
  }
}

export function isPreviewGateMessage(data: unknown): data is PreviewGateMessage {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Record<string, unknown>;
  return m.source === MESSAGE_SOURCE && m.version === MESSAGE_VERSION && typeof m.type === 'string';
}
