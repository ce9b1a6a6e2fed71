/**
 * `PreviewGate.mount(element, options)`: puts a private Daytona preview in `element` through
 * preview-gate. Mints a preview with the host app's user session (POST {gateway}/api/previews,
 * CORS, `Authorization: Bearer`), loads the launch URL in an iframe (the one-time code rides in
 * the fragment), follows the preview's postMessage reports, and mints a new preview when the
 * session ends (expired, revoked), unless the host app cancels the `expired` event.
 *
 * Events on `element` (CustomEvent, `detail: {code, message, credentialPath, sessionId}`):
 *   ready    the app in the frame loaded (after a launch)
 *   expired  the preview session ended (expired, revoked, code spent); cancelable:
 *            `preventDefault()` stops the automatic relaunch. Once per preview session: from
 *            a gateway error page in the frame, from `handle.revoke()` at once, or from the
 *            status check (GET /api/previews/{id} every `statusIntervalMs` while the page is
 *            visible), so a session revoked elsewhere is reported even while the app in the
 *            frame only fetches or sits idle
 *   error    anything else that keeps the preview from showing (forbidden, sandbox stopped, ...)
 *
 * The frame is the preview origin, where the sandbox app's own (untrusted) scripts run: any
 * message from it may come from the app, not from the gateway's pages. So `detail.code` is
 * always one of the known codes (anything else becomes `internal`), `detail.message` is
 * UNTRUSTED text of at most 300 characters (show it with `textContent`, never as HTML), and a
 * `relaunch` request (which mints a new preview session) is honoured only after the frame
 * reported an error, once per error, within the same per-minute cap as automatic relaunches.
 *
 * @example
 *   const handle = PreviewGate.mount(document.getElementById('preview'), {
 *     sandboxId, port: 3000, path: '/', getSession: async () => (await fetch('/my/session')).text(),
 *   });
 *   handle.element.addEventListener('ready', (e) => console.log(e.detail.credentialPath));
 */
import { isErrorCode } from '../../protocol/index.js';
import { isPreviewGateMessage, type CredentialPath, type PageErrorCode } from './messages.js';
import { readGateError } from './read-error.js';

export interface MountOptions {
  sandboxId: string;
  port: number;
  /** Path to open in the sandbox app. Default `/`. */
  path?: string;
  /** Resolves to the host app's user-session JWT (sent as `Authorization: Bearer`). */
  getSession: () => Promise<string>;
  /** The gateway's own origin. Default: the origin embed.js was loaded from. */
  gatewayUrl?: string;
  /** `false` keeps the Service Worker out (cookie path only). Default true. */
  worker?: boolean;
  /** Title of the iframe, for assistive technology. Default `Preview`. */
  title?: string;
  /**
   * How often (ms) the embed asks the gateway whether the preview session still lives
   * (GET /api/previews/{id} with `getSession()`), from the frame's `launched` report on, paused
   * while the page is hidden and checked at once when it is shown again. Default 30000; at
   * least 100; `0` turns the check off (the end is then seen only by the frame's next
   * navigation).
   */
  statusIntervalMs?: number;
}

export interface PreviewHandle {
  readonly element: HTMLElement;
  readonly iframe: HTMLIFrameElement;
  /** How the preview authenticates: 'worker', 'cookie', or null before the first launch. */
  readonly credentialPath: CredentialPath | null;
  readonly sessionId: string | null;
  /** Mints a new preview and loads it (a new launch link each time). */
  reload(): Promise<void>;
  /** A new launch URL for the same preview, e.g. to open it in a new tab. */
  launchUrl(path?: string): Promise<string>;
  /** Ends the current preview session (DELETE /api/previews/{id}); dispatches `expired` (`session_revoked`) at once. */
  revoke(): Promise<void>;
  destroy(): void;
}

export interface PreviewEventDetail {
  code: PageErrorCode | 'ok';
  /**
   * Human-readable text. UNTRUSTED when it comes from the frame (the sandbox app can post it):
   * at most MAX_MESSAGE_LENGTH characters; render it as text, never as HTML.
   */
  message: string;
  credentialPath: CredentialPath | null;
  sessionId: string | null;
}

/** Session ends a new launch cures: the embed mints a fresh preview for these. */
const EXPIRED_CODES = new Set<string>([
  'invalid_code',
  'token_expired',
  'session_revoked',
  'invalid_session',
  'invalid_token',
  'refresh_reused',
  'missing_credential',
]);

/**
 * No more than this many relaunches per minute, automatic or asked for by the frame: a broken
 * setup must not loop, and the app in the frame must not make the host mint sessions at will.
 */
export const MAX_AUTO_RELAUNCH_PER_MINUTE = 3;
/** Longest `message` taken from the frame (the rest is cut). */
export const MAX_MESSAGE_LENGTH = 300;
/** Default period of the session status check (GET /api/previews/{id}). */
export const DEFAULT_STATUS_INTERVAL_MS = 30_000;
/** Shortest period of the status check the embed accepts. */
export const MIN_STATUS_INTERVAL_MS = 100;

/** `statusIntervalMs` as used: default when absent or not a number, 0 = off, else at least the minimum. */
export function statusInterval(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) return DEFAULT_STATUS_INTERVAL_MS;
  if (value <= 0 || value === Infinity) return 0;
  return Math.min(Math.max(MIN_STATUS_INTERVAL_MS, value), 2 ** 31 - 1);
}

/** The `state` of GET /api/previews/{id} as an `expired` event's code, or null while the session lives. */
export function endedCode(state: unknown): PageErrorCode | null {
  if (state === 'revoked') return 'session_revoked';
  if (state === 'expired') return 'invalid_session';
  return null;
}

const PAGE_CODES = new Set<string>(['storage_refused', 'network_error']);

/** A code the frame reported, if it is one we know; anything else is `internal`. */
export function frameErrorCode(code: unknown): PageErrorCode {
  return isErrorCode(code) || (typeof code === 'string' && PAGE_CODES.has(code)) ? (code as PageErrorCode) : 'internal';
}

/** The frame's `message`: text only, capped. */
export function frameMessage(message: unknown): string {
  return typeof message === 'string' ? message.slice(0, MAX_MESSAGE_LENGTH) : '';
}

/**
 * Why these sandbox flags: the preview is a separate origin and keeps it (`allow-same-origin`:
 * its Service Worker, IndexedDB and cookies need a real origin; with a cross-origin frame this
 * grants nothing over the host page), runs its scripts, submits forms, opens popups (OAuth
 * flows, "open in new tab" links) that are not themselves sandboxed, shows dialogs and
 * downloads files. Left out on purpose: `allow-top-navigation*` (the preview must not navigate
 * the host app away) and `allow-pointer-lock`/`allow-presentation` (not needed by web apps
 * under development; add them in your own build if yours does).
 */
export const IFRAME_SANDBOX =
  'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads';
export const IFRAME_ALLOW = 'clipboard-read; clipboard-write; fullscreen';

export class PreviewGateError extends Error {
  constructor(
    readonly code: PageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PreviewGateError';
  }
}

async function readApiError(response: Response): Promise<PreviewGateError> {
  const { code, message } = await readGateError(response, 'missing_credential');
  return new PreviewGateError(code, message);
}

export function mount(element: HTMLElement, options: MountOptions, defaultGateway: string): PreviewHandle {
  const gateway = (options.gatewayUrl ?? defaultGateway).replace(/\/+$/, '');
  if (!gateway) throw new TypeError('PreviewGate.mount: gatewayUrl is required when embed.js is not loaded from the gateway');
  if (typeof options.getSession !== 'function') throw new TypeError('PreviewGate.mount: getSession must be a function');

  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', IFRAME_SANDBOX);
  iframe.setAttribute('allow', IFRAME_ALLOW);
  iframe.setAttribute('referrerpolicy', 'origin');
  iframe.title = options.title ?? 'Preview';
  iframe.style.cssText = 'border:0;width:100%;height:100%;display:block;';
  (element.shadowRoot ?? element).append(iframe);

  let credentialPath: CredentialPath | null = null;
  let sessionId: string | null = null;
  let previewOrigin: string | null = null;
  let awaitingApp = false;
  let destroyed = false;
  let generation = 0;
  const relaunches: number[] = [];
  /** The frame reported an error since the last launch: one `relaunch` request may follow. */
  let frameFailed = false;
  /** This launch's session was reported ended (`expired` dispatched): once per session. */
  let ended = false;
  const interval = statusInterval(options.statusIntervalMs);
  /** The status check runs (from `launched` until the session ends, a new launch or destroy). */
  let watching = false;
  let checking = false;
  /** The status check saw the session active once: a later 404 means it is gone, not unsupported. */
  let seenActive = false;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;

  const emit = (type: 'ready' | 'expired' | 'error', code: PreviewEventDetail['code'], message: string): boolean => {
    const detail: PreviewEventDetail = { code, message, credentialPath, sessionId };
    return element.dispatchEvent(new CustomEvent(type, { detail, cancelable: type === 'expired' }));
  };

  /** POST /api/previews answer; `expiresAt` is the launch code's, `sessionExpiresAt` the session's end. */
  interface Minted {
    url: string;
    sessionId: string;
    expiresAt: number;
    sessionExpiresAt?: number;
  }

  let endTimer: ReturnType<typeof setTimeout> | undefined;
  /** At the session's absolute end, report it and relaunch (setTimeout caps at ~24.8 days). */
  function watchSessionEnd(at: number | undefined): void {
    clearTimeout(endTimer);
    if (typeof at !== 'number') return;
    endTimer = setTimeout(() => sessionEnded('invalid_session', 'The preview session reached its end.', false), Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
  }

  /**
   * The current session ended: `expired` once per session, then the automatic relaunch unless
   * cancelled (capped). `fromFrame`: reported by a gateway error page in the frame, after which
   * the failure page's button may ask for one relaunch (also when the end was already reported).
   */
  function sessionEnded(code: PageErrorCode, message: string, fromFrame: boolean): void {
    stopStatus();
    if (ended || destroyed) {
      if (fromFrame) frameFailed = true;
      return;
    }
    ended = true;
    clearTimeout(endTimer);
    if (emit('expired', code, message)) {
      // Not cancelled: the automatic relaunch (capped) is the way out; a button press must
      // not add another. Cancelled: the failure page's "Get a new link" may ask once.
      const allowed = relaunchAllowed();
      if (fromFrame) frameFailed = !allowed;
      if (allowed) void launch();
    } else if (fromFrame) frameFailed = true;
  }

  function startStatus(): void {
    if (!interval || watching || ended || destroyed || !sessionId) return;
    watching = true;
    seenActive = false;
    scheduleStatus();
  }

  function stopStatus(): void {
    watching = false;
    clearTimeout(statusTimer);
    statusTimer = undefined;
  }

  function scheduleStatus(): void {
    clearTimeout(statusTimer);
    statusTimer = undefined;
    if (!watching || document.visibilityState === 'hidden') return;
    statusTimer = setTimeout(() => void checkStatus(), interval);
  }

  /** One GET /api/previews/{id}; network and other failures say nothing (next tick retries). */
  async function checkStatus(): Promise<void> {
    if (!watching || checking || !sessionId) return;
    checking = true;
    clearTimeout(statusTimer);
    const sid = sessionId;
    const mine = generation;
    let state: unknown = null;
    try {
      const session = await options.getSession();
      const response = await fetch(`${gateway}/api/previews/${encodeURIComponent(sid)}`, {
        method: 'GET',
        mode: 'cors',
        credentials: 'omit',
        cache: 'no-store',
        headers: { authorization: `Bearer ${session}` },
      });
      if (response.ok) {
        const body = (await response.json()) as { state?: unknown } | null;
        state = body?.state;
      } else if (response.status === 404 && (await readGateError(response, 'not_found')).code === 'not_found') {
        // Unknown session: gone (the store forgets a session at its end) once it was seen
        // active; before that, a gateway without this endpoint: stop asking.
        state = seenActive ? 'expired' : 'unsupported';
      }
    } catch {
      /* network error or unreadable answer: no event, the next tick asks again */
    } finally {
      checking = false;
    }
    if (destroyed || !watching || mine !== generation || sid !== sessionId) return;
    if (state === 'active') seenActive = true;
    if (state === 'unsupported') return stopStatus();
    const code = endedCode(state);
    if (code) return sessionEnded(code, code === 'session_revoked' ? 'The preview session was ended.' : 'The preview session reached its end.', false);
    scheduleStatus();
  }

  function onVisibility(): void {
    if (document.visibilityState === 'hidden') {
      clearTimeout(statusTimer);
      statusTimer = undefined;
    } else if (watching) void checkStatus();
  }

  async function mint(path: string | undefined): Promise<Minted> {
    const session = await options.getSession();
    const response = await fetch(`${gateway}/api/previews`, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: options.sandboxId, port: options.port, ...(path ? { path } : {}) }),
    });
    if (!response.ok) throw await readApiError(response);
    return (await response.json()) as Minted;
  }

  /** The launch URL as the frame gets it: `&sw=0` in the fragment keeps the worker out. */
  const launchTarget = (url: string): string => (options.worker === false ? `${url}&sw=0` : url);

  async function launch(): Promise<void> {
    const mine = ++generation;
    try {
      const preview = await mint(options.path);
      if (destroyed || mine !== generation) return;
      stopStatus();
      sessionId = preview.sessionId;
      previewOrigin = new URL(preview.url).origin;
      credentialPath = null;
      awaitingApp = false;
      frameFailed = false;
      ended = false;
      iframe.src = launchTarget(preview.url);
      watchSessionEnd(preview.sessionExpiresAt);
    } catch (err) {
      const e = err instanceof PreviewGateError ? err : new PreviewGateError('network_error', String(err));
      emit('error', e.code, e.message);
    }
  }

  /** Takes one relaunch from the per-minute allowance; false (and an error event) when spent. */
  function relaunchAllowed(): boolean {
    const now = Date.now();
    while (relaunches.length && relaunches[0]! < now - 60_000) relaunches.shift();
    if (relaunches.length >= MAX_AUTO_RELAUNCH_PER_MINUTE) {
      emit('error', 'internal', 'The preview keeps ending right after it opens; stopped relaunching it.');
      return false;
    }
    relaunches.push(now);
    return true;
  }

  async function openInNewTab(): Promise<void> {
    // No user activation crosses postMessage, so this may be blocked as a popup: then the host
    // app learns it through an error event and can offer its own link.
    const url = await handle.launchUrl();
    if (!window.open(url, '_blank', 'noopener')) emit('error', 'storage_refused', 'Open the preview in a new tab: ' + url);
  }

  // Messages pass the origin and source checks, but the preview origin runs the sandbox app's
  // own scripts: every field is validated, and what would mint a session is rationed.
  function onMessage(event: MessageEvent): void {
    if (event.source !== iframe.contentWindow || event.origin !== previewOrigin) return;
    if (!isPreviewGateMessage(event.data)) return;
    const message = event.data as { type: string; code?: unknown; message?: unknown; credentialPath?: unknown; target?: unknown };
    if (message.type === 'launched') {
      if (message.credentialPath !== 'worker' && message.credentialPath !== 'worker-only' && message.credentialPath !== 'cookie') return;
      credentialPath = message.credentialPath;
      awaitingApp = true;
      frameFailed = false;
      startStatus();
    } else if (message.type === 'error') {
      awaitingApp = false;
      const code = frameErrorCode(message.code);
      const text = frameMessage(message.message);
      if (EXPIRED_CODES.has(code)) {
        sessionEnded(code, text, true);
      } else {
        frameFailed = true;
        emit('error', code, text);
      }
    } else if (message.type === 'relaunch') {
      // Only the failure page's button asks for this: honoured once per reported error, capped.
      if (!frameFailed || (message.target !== 'tab' && message.target !== 'frame')) return;
      frameFailed = false;
      if (!relaunchAllowed()) return;
      if (message.target === 'tab') void openInNewTab();
      else void launch();
    }
  }

  function onLoad(): void {
    if (!awaitingApp) return;
    awaitingApp = false;
    emit('ready', 'ok', '');
  }

  window.addEventListener('message', onMessage);
  iframe.addEventListener('load', onLoad);
  document.addEventListener('visibilitychange', onVisibility);
  void launch();

  const handle: PreviewHandle = {
    element,
    iframe,
    get credentialPath() {
      return credentialPath;
    },
    get sessionId() {
      return sessionId;
    },
    reload: () => launch(),
    async launchUrl(path) {
      return launchTarget((await mint(path ?? options.path)).url);
    },
    async revoke() {
      const sid = sessionId;
      if (!sid) return;
      const session = await options.getSession();
      const response = await fetch(`${gateway}/api/previews/${encodeURIComponent(sid)}`, {
        method: 'DELETE',
        mode: 'cors',
        credentials: 'omit',
        headers: { authorization: `Bearer ${session}` },
      });
      if (!response.ok && response.status !== 404) throw await readApiError(response);
      // Tell the host app now, not at the frame's next navigation (a no-op if already reported).
      if (sid === sessionId) sessionEnded('session_revoked', 'The preview session was ended.', false);
    },
    destroy() {
      destroyed = true;
      clearTimeout(endTimer);
      stopStatus();
      window.removeEventListener('message', onMessage);
      document.removeEventListener('visibilitychange', onVisibility);
      iframe.removeEventListener('load', onLoad);
      iframe.remove();
    },
  };
  return handle;
}
