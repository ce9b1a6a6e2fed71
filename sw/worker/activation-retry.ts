/**
 * A second activation attempt for an app worker's update that Chromium dropped (ARCHITECTURE.md
 * flow 15, "Updates in Chromium"). Runs in composition mode only (inside the app's own worker).
 *
 * What Chromium does (content/browser/service_worker, measured with the DevTools protocol's
 * `ServiceWorker.workerVersionUpdated`): when a new version has installed and called
 * `skipWaiting()`, the browser asks the active (old) version to stop as soon as its event queue
 * is idle, and activates the new one once it has stopped. If a controlled page sends a request
 * while the old version is *stopping*, the browser starts the old version again to answer it,
 * and that restart clears the "stop as soon as idle" mark and skips the "no work" notice the
 * activation was waiting for. Nothing tries again: the new version stays `installed` until the
 * old one is stopped for being idle (30 s without any request; never while DevTools is attached,
 * which Playwright always is), a navigation in scope (which in that state was seen to hang), or
 * Chromium's 5-minute lame-duck timer. A page that polls through its worker loses the race now
 * and then; one that keeps fetching loses it every time.
 *
 * What JavaScript can do: a `skipWaiting()` called while the new version is `installed` makes
 * Chromium try the activation again (only the first such call: later ones wait on the first).
 * So the old version, when it starts while an update is waiting, waits until no request has
 * reached it for `quietMs` and then asks the waiting version (a message) to call `skipWaiting()`
 * once more, which the waiting version does only if the app's own code asked for it (an app that
 * shows "a new version is available" and waits for the user keeps that behaviour).
 */

/** The message the active version posts to the waiting one. */
export const ACTIVATE_AGAIN = 'preview-gate:activate-again';

/** How long the old version must have had no request before it asks (see the file's comment). */
export const ACTIVATE_AGAIN_QUIET_MS = 250;

interface WorkerLike {
  state: string;
  postMessage(message: unknown): void;
}

interface MessageEventLike {
  data: unknown;
  stopImmediatePropagation(): void;
}

/** The parts of a ServiceWorkerGlobalScope this touches (tests pass fakes). */
export interface LifecycleScope {
  skipWaiting(): Promise<void>;
  /** `self.serviceWorker` (Chromium 116+, Firefox 124+); without it nothing is done. */
  serviceWorker?: WorkerLike | null;
  registration: { waiting: WorkerLike | null };
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  addEventListener(type: 'fetch', listener: () => void): void;
}

export interface RetryOptions {
  quietMs?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
}

/**
 * Installs the retry; call it before the app's script runs (its message and fetch listeners
 * come first, and `skipWaiting` is observed from the app's first call on).
 */
export function installActivationRetry(scope: LifecycleScope, opts: RetryOptions = {}): void {
  const quietMs = opts.quietMs ?? ACTIVATE_AGAIN_QUIET_MS;
  const now = opts.now ?? (() => Date.now());
  const setTimer = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));

  // The waiting side: remember whether the app asked to skip waiting (in this instance).
  const skipWaiting = scope.skipWaiting.bind(scope);
  let appAsked = false;
  let retried = false;
  scope.skipWaiting = () => {
    appAsked = true;
    return skipWaiting();
  };
  scope.addEventListener('message', (event) => {
    const data = event.data as { type?: unknown } | null;
    if (typeof data !== 'object' || data === null || data.type !== ACTIVATE_AGAIN) return;
    event.stopImmediatePropagation(); // ours, not the app's
    if (!appAsked || retried || scope.serviceWorker?.state !== 'installed') return;
    retried = true;
    void skipWaiting().catch(() => undefined);
  });

  // The active side: started while an update waits (the case above, or any restart). Only one
  // version can be `activating` or `activated`: this one is the registration's active worker.
  const own = scope.serviceWorker;
  if (!own || (own.state !== 'activating' && own.state !== 'activated') || !scope.registration.waiting) return;
  let last = now();
  scope.addEventListener('fetch', () => {
    last = now();
  });
  const check = () => {
    const waiting = scope.registration.waiting;
    if (waiting?.state !== 'installed' || own.state === 'redundant') return; // activated meanwhile, or gone
    const idle = now() - last;
    // Ask only once this version's own activation has ended and no request reached it for a while.
    if (own.state !== 'activated' || idle < quietMs) {
      setTimer(check, Math.max(quietMs - idle, 50));
      return;
    }
    waiting.postMessage({ type: ACTIVATE_AGAIN });
  };
  setTimer(check, quietMs);
}
