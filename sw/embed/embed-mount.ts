/**
 * `PreviewGate.mount(element, options)`: puts a private Daytona preview in `element` through
 * preview-gate. Mints a preview with the host app's user session (POST {gateway}/api/previews,
 * CORS, `Authorization: Bearer`), loads the launch URL in an iframe (the one-time code rides in
 * the fragment), follows the preview's postMessage reports, and mints a new preview when the
 * session ends by itself (expired, revoked elsewhere), unless the host app cancels the `expired`
 * event. `handle.revoke()` ends it for good: no new session until `reload()`.
 *
 * Events on `element` (CustomEvent, `detail: {code, message, credentialPath, sessionId}`):
 *   ready    the app in the frame loaded (after a launch, or when a waiting page turned into it);
 *            never for a gateway page (waiting or error)
 *   waiting  the frame shows the waiting page: the sandbox is starting (`sandbox_starting`) or
 *            nothing listens on the port yet (`app_not_listening`); the page turns into the app
 *            by itself, and `ready` follows
 *   expired  the preview session ended (expired, revoked, code spent); cancelable:
 *            `preventDefault()` stops the automatic relaunch. Once per preview session: from
 *            a gateway error page in the frame, from `handle.revoke()` at once, or from the
 *            status check (GET /api/previews/{id} every `statusIntervalMs` while the page is
 *            visible), so a session revoked elsewhere is reported even while the app in the
 *            frame only fetches or sits idle. After `revoke()` the frame no longer shows the
 *            app: an "ended" panel with a Start again button does (a cancelled `expired`
 *            leaves the frame to the host app)
 *   error    anything else that keeps the preview from showing (forbidden, sandbox stopped, ...)
 *
 * The frame is the preview origin, where the sandbox app's own (untrusted) scripts run: any
 * message from it may come from the app, not from the gateway's pages. So `detail.code` is
 * always one of the known codes (anything else becomes `internal`), `detail.message` is
 * UNTRUSTED text of at most 300 characters (show it with `textContent`, never as HTML), and a
 * `relaunch` request (which mints a new preview session) is honoured only after the frame
 * reported an error, once per error, within the same per-minute cap as automatic relaunches.
 *
 * Runs on the host app's page (not on the preview origin, not in a worker). Built from:
 * gateway-client.ts (the broker API calls), status-watcher.ts (the status check),
 * frame-messages.ts (what the frame may say), lifecycle.ts (the state machine), ended-panel.ts
 * and mount-types.ts (the options, the handle, the events' detail and the iframe's flags); this
 * file wires them to the iframe and the element's events.
 *
 * @example
 *   const handle = PreviewGate.mount(document.getElementById('preview'), {
 *     sandboxId, port: 3000, path: '/', getSession: async () => (await fetch('/my/session')).text(),
 *   });
 *   handle.element.addEventListener('ready', (e) => console.log(e.detail.credentialPath));
 */
import type { ErrorCode } from '../../protocol/index.js';
import type { CredentialPath } from '../page/messages.js';
import { createGatewayClient, PreviewGateError } from './gateway-client.js';
import { readFrameMessage } from './frame-messages.js';
import { createRelaunchBudget, mayRelaunchOnRequest, type Phase, READY_SETTLE_MS, stateOf, withRelaunchable } from './lifecycle.js';
import { createEndedPanel } from './ended-panel.js';
import { createStatusWatcher, statusInterval } from './status-watcher.js';
import { IFRAME_ALLOW, IFRAME_SANDBOX, type MountOptions, type PreviewEventDetail, type PreviewHandle } from './mount-types.js';

export { PreviewGateError } from './gateway-client.js';
export { MAX_MESSAGE_LENGTH, frameErrorCode, frameMessage } from './frame-messages.js';
export { MAX_AUTO_RELAUNCH_PER_MINUTE, READY_SETTLE_MS, type PreviewState } from './lifecycle.js';
export { DEFAULT_STATUS_INTERVAL_MS, MIN_STATUS_INTERVAL_MS, endedCode, statusInterval } from './status-watcher.js';
export { IFRAME_ALLOW, IFRAME_SANDBOX, type MountOptions, type PreviewEventDetail, type PreviewHandle } from './mount-types.js';

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
  const root = element.shadowRoot ?? element;
  // The ended panel lies over the frame: the element must be its containing block.
  if (!element.shadowRoot && typeof getComputedStyle === 'function' && getComputedStyle(element).position === 'static') element.style.position = 'relative';
  root.append(iframe);
  const ended = createEndedPanel(root, () => void launch());

  const client = createGatewayClient(gateway, options.getSession);
  const budget = createRelaunchBudget();
  const watcher = createStatusWatcher({
    intervalMs: statusInterval(options.statusIntervalMs),
    sessionState: (id) => client.sessionState(id),
    onEnded: (code, message) => sessionEnded(code, message, false),
  });
  let phase: Phase = { name: 'idle' };
  let credentialPath: CredentialPath | null = null;
  let sessionId: string | null = null;
  let previewOrigin: string | null = null;
  /** Bumped by every launch: a mint answered after a newer launch began is dropped. */
  let generation = 0;
  let endTimer: ReturnType<typeof setTimeout> | undefined;
  let readyTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * A waiting page reported itself before its own `load` reached us (Firefox's order; Chromium
   * delivers the `load` first): that next `load` is the waiting page's, not the app's.
   */
  let ownLoadPending = false;

  const emit = (type: 'ready' | 'waiting' | 'expired' | 'error', code: PreviewEventDetail['code'], message: string): boolean => {
    const detail: PreviewEventDetail = { code, message, credentialPath, sessionId };
    return element.dispatchEvent(new CustomEvent(type, { detail, cancelable: type === 'expired' }));
  };

  /** At the session's absolute end, report it and relaunch (setTimeout caps at ~24.8 days). */
  function watchSessionEnd(at: number | undefined): void {
    clearTimeout(endTimer);
    if (typeof at !== 'number') return;
    endTimer = setTimeout(
      () => sessionEnded('invalid_session', 'The preview session reached its end.', false),
      Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1),
    );
  }

  /** Takes one relaunch from the per-minute budget; false (and an error event) when spent. */
  function relaunchAllowed(): boolean {
    if (budget.take()) return true;
    emit('error', 'internal', 'The preview keeps ending right after it opens; stopped relaunching it.');
    return false;
  }

  /**
   * The current session ended: `expired` once per session, then the automatic relaunch unless
   * cancelled (capped). `fromFrame`: reported by a gateway error page in the frame, after which
   * the failure page's button may ask for one relaunch (also when the end was already reported).
   */
  function sessionEnded(code: ErrorCode, message: string, fromFrame: boolean, revoked = false): void {
    watcher.stop();
    clearTimeout(readyTimer);
    if (phase.name === 'destroyed') return;
    if (phase.name === 'ended') {
      if (fromFrame) phase = withRelaunchable(phase, true);
      else if (revoked) showEnded(code);
      return;
    }
    phase = { name: 'ended', relaunchable: false };
    clearTimeout(endTimer);
    const relaunch = emit('expired', code, message) && !revoked;
    if (revoked) return showEnded(code);
    if (relaunch) {
      // Not cancelled: the automatic relaunch (capped) is the way out; a button press must
      // not add another. Cancelled: the failure page's "Get a new link" may ask once.
      const allowed = relaunchAllowed();
      if (fromFrame && !allowed) phase = withRelaunchable(phase, true);
      if (allowed) void launch();
    } else if (fromFrame) phase = withRelaunchable(phase, true);
  }

  /**
   * The host app ended the session (revoke(): "End session"): the frame must not keep showing
   * the app (it would look alive). Emptied (about:blank), and the ended panel offers Start again.
   */
  function showEnded(code: ErrorCode): void {
    previewOrigin = null; // whatever the old frame still posts is not listened to
    iframe.src = 'about:blank';
    ended.show(code);
  }

  /** The launch URL as the frame gets it: `&sw=0` in the fragment keeps the worker out. */
  const launchTarget = (url: string): string => (options.worker === false ? `${url}&sw=0` : url);
  const mint = (path: string | undefined) => client.mint({ sandboxId: options.sandboxId, port: options.port, ports: options.ports, path });

  async function launch(): Promise<void> {
    const mine = ++generation;
    watcher.stop(); // the session being replaced is no longer watched
    try {
      const preview = await mint(options.path);
      if (phase.name === 'destroyed' || mine !== generation) return;
      sessionId = preview.sessionId;
      previewOrigin = new URL(preview.url).origin;
      credentialPath = null;
      phase = { name: 'loading' };
      ownLoadPending = false;
      ended.hide();
      iframe.src = launchTarget(preview.url);
      watchSessionEnd(preview.sessionExpiresAt);
    } catch (err) {
      const e = err instanceof PreviewGateError ? err : new PreviewGateError('network_error', String(err));
      emit('error', e.code, e.message);
    }
  }

  async function openInNewTab(): Promise<void> {
    // No user activation crosses postMessage, so this may be blocked as a popup: then the host
    // app learns it through an error event and can offer its own link.
    const url = await handle.launchUrl();
    if (!window.open(url, '_blank', 'noopener')) emit('error', 'popup_blocked', `Open the preview in a new tab: ${url}`);
  }

  // Messages pass the origin and source checks here and every field is checked by
  // readFrameMessage (frame-messages.ts); what would mint a session is rationed.
  function onMessage(event: MessageEvent): void {
    if (event.source !== iframe.contentWindow || event.origin !== previewOrigin) return;
    const report = readFrameMessage(event.data);
    if (!report || phase.name === 'destroyed') return;
    if (report.type === 'launched') {
      if (phase.name === 'ended') return; // reported over: only a new launch starts again
      credentialPath = report.credentialPath;
      phase = { name: 'starting-app' };
      if (sessionId) watcher.watch(sessionId);
    } else if (report.type === 'waiting') {
      if (phase.name === 'ended' || phase.name === 'failed' || phase.name === 'idle') return;
      const loadSeen = readyTimer !== undefined;
      clearTimeout(readyTimer);
      readyTimer = undefined;
      ownLoadPending = !loadSeen && (phase.name === 'starting-app' || phase.name === 'waiting');
      const was = phase.name;
      phase = { name: 'waiting' };
      if (was !== 'waiting') emit('waiting', report.code, report.message);
    } else if (report.type === 'error') {
      clearTimeout(readyTimer);
      if (report.sessionOver) sessionEnded(report.code as ErrorCode, report.message, true);
      else {
        phase = phase.name === 'ended' ? withRelaunchable(phase, true) : { name: 'failed', relaunchable: true };
        emit('error', report.code, report.message);
      }
    } else {
      // Only the failure page's button asks for this: honoured once per reported error, capped.
      if (!mayRelaunchOnRequest(phase)) return;
      phase = withRelaunchable(phase, false);
      if (!relaunchAllowed()) return;
      if (report.target === 'tab') void openInNewTab();
      else void launch();
    }
  }

  /**
   * The frame loaded a page after the launch, or the waiting page reloaded: the app, unless the
   * page reports itself a waiting or error page within READY_SETTLE_MS (lifecycle.ts).
   */
  function onLoad(): void {
    if (phase.name !== 'starting-app' && phase.name !== 'waiting') return;
    if (ownLoadPending) {
      ownLoadPending = false;
      return;
    }
    clearTimeout(readyTimer);
    readyTimer = setTimeout(() => {
      readyTimer = undefined;
      if (phase.name !== 'starting-app' && phase.name !== 'waiting') return;
      phase = { name: 'live' };
      emit('ready', 'ok', '');
    }, READY_SETTLE_MS);
  }

  window.addEventListener('message', onMessage);
  iframe.addEventListener('load', onLoad);
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
    get state() {
      return stateOf(phase);
    },
    reload: () => launch(),
    async launchUrl(path) {
      return launchTarget((await mint(path ?? options.path)).url);
    },
    async revoke() {
      const sid = sessionId;
      if (!sid) return;
      await client.revoke(sid);
      // Tell the host app now, not at the frame's next navigation; revoke means revoke: no new
      // session by itself, and the frame stops showing the app.
      if (sid === sessionId) sessionEnded('session_revoked', 'The preview session was ended.', false, true);
    },
    destroy() {
      phase = { name: 'destroyed' };
      clearTimeout(endTimer);
      clearTimeout(readyTimer);
      ended.remove();
      watcher.destroy();
      window.removeEventListener('message', onMessage);
      iframe.removeEventListener('load', onLoad);
      iframe.remove();
    },
  };
  return handle;
}
