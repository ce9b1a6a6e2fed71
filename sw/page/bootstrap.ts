/**
 * /__gate/bootstrap.js: the script of the launch page and of the gateway's error pages.
 *
 * On the launch page (`#code=...&path=...`): take the code out of the address bar at once,
 * exchange it at POST /__gate/session (which also sets the fallback cookie), keep the grant in
 * IndexedDB, register the Service Worker (silently skipped where the browser refuses it, e.g.
 * a cross-site iframe with third-party cookies blocked), tell the embedding page which
 * credential path is in use (`worker`, `worker-only` when the cookie does not come back here,
 * or `cookie`), then go to the requested path.
 *
 * On an error page: tell the embedding page the code, and wire the way-out buttons. On a waiting
 * page (`app_not_listening`, `sandbox_starting`): tell the embedding page it is waiting, check
 * again with backoff and reload into the app as soon as it answers (waiting.ts).
 *
 * A launch link opened again (its code spent) in a tab that already holds a live session for
 * this preview goes to the app instead of failing; a code that is not the shape of one is "not
 * valid", not "expired".
 *
 * Fragment flags: `sw=0` keeps the worker out (cookie path only; also unregisters an earlier
 * worker) for diagnosis and tests.
 */
import { GATE_PATHS, LAUNCH_CODE_FRAGMENT, LAUNCH_PATH_FRAGMENT, isErrorCode } from '../../protocol/index.js';
import { TOKENS_CHANGED } from '../worker/messages.js';
import { createTokenStore, isTokenGrant } from '../worker/token-store.js';
import { exchangeSiblingCodes } from '../worker/sibling-origins.js';
import { actionButtons, showFailure, showMalformedCode } from './failure-view.js';
import { isWaitingCode } from './failures.js';
import { resumeWait, saveWait, waitForApp } from './waiting.js';
import { postToParent, type CredentialPath, type PageErrorCode } from './messages.js';
import { readGateError } from './read-error.js';
import { safePath } from './safe-path.js';
import { askToContinue, launchContext } from './launch-confirm.js';
import { appRefusesFraming } from './frame-policy.js';

/** How long the launch waits for the worker to activate before going on with the cookie. */
const WORKER_WAIT_MS = 3_000;

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

/** Posts a message to the worker and waits for its reply (or a short deadline). */
function tellWorker(worker: ServiceWorker | null, type: typeof TOKENS_CHANGED): Promise<void> {
  if (!worker) return Promise.resolve();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    worker.postMessage({ type }, [channel.port2]);
    setTimeout(resolve, 500);
  });
}

/** True when `worker` answers the tokens-changed message: our layer runs in it. */
function workerAnswers(worker: ServiceWorker): Promise<boolean> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(true);
    worker.postMessage({ type: TOKENS_CHANGED }, [channel.port2]);
    setTimeout(() => resolve(false), 1_000);
  });
}

/** Registers the worker and waits (briefly) until it is active; null when refused. */
async function installWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null;
  try {
    // The app's own worker already holds scope `/` (ARCHITECTURE.md flow 15): registering ours
    // would replace it. The gateway serves it wrapped around ours, so ours answers inside it;
    // one that does not answer was served unwrapped and the cookie carries the session.
    const existing = await navigator.serviceWorker.getRegistration('/').catch(() => undefined);
    const active = existing?.active;
    if (existing && active && new URL(active.scriptURL).pathname !== GATE_PATHS.serviceWorker) {
      return (await workerAnswers(active)) ? existing : null;
    }
    const registration = await navigator.serviceWorker.register(GATE_PATHS.serviceWorker, { scope: '/' });
    const ready = await Promise.race([navigator.serviceWorker.ready, timeout(WORKER_WAIT_MS)]);
    // An already-active worker may hold an older grant in memory: make it re-read IndexedDB,
    // and wait for its answer so the next navigation already carries the new token.
    await tellWorker(registration.active, TOKENS_CHANGED);
    return ready ?? (registration.active ? registration : null);
  } catch {
    // NotSupportedError in a cross-site iframe with third-party cookies blocked, SecurityError
    // elsewhere: the cookie carries the session instead. Silent on purpose.
    return null;
  }
}

/**
 * Whether this page is controlled by a worker within `ms`. `serviceWorker.ready` (installWorker)
 * resolves once the worker is active, which can be before its `clients.claim()` (sw/worker/sw.ts)
 * has made this page its client: a fetch in between bypasses the worker.
 */
function controlledWithin(ms: number): Promise<boolean> {
  const container = navigator.serviceWorker;
  if (!container) return Promise.resolve(false);
  if (container.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      container.removeEventListener('controllerchange', done);
      resolve(Boolean(container.controller));
    };
    const timer = setTimeout(done, ms);
    container.addEventListener('controllerchange', done);
  });
}

async function removeWorkers(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const registrations = await navigator.serviceWorker.getRegistrations().catch(() => []);
  await Promise.all(registrations.map((r) => r.unregister().catch(() => false)));
}

/**
 * True when the cookie set by /__gate/session comes back: GET /__gate/status (never touched by
 * the worker) answers `{authenticated}`. When unsure, true: the navigation finds out.
 */
async function cookieWorks(): Promise<boolean> {
  try {
    const response = await fetch(GATE_PATHS.status, { credentials: 'same-origin', cache: 'no-store' });
    if (response.status === 401) return false;
    const body = (await response.json().catch(() => null)) as { authenticated?: unknown } | null;
    return body?.authenticated !== false;
  } catch {
    return true;
  }
}

/** What the launch navigation looked like: the gateway picks the cookie mode from it. */
function cookieModeHint(): { cookieMode?: string; embedded: boolean } {
  const mode = document.querySelector<HTMLElement>('[data-cookie-mode]')?.dataset.cookieMode;
  return { ...(mode ? { cookieMode: mode } : {}), embedded: window.parent !== window };
}

/** A launch code as the gateway makes them: 32 random bytes, base64url (broker/core/tokens/crypto.ts). */
const LAUNCH_CODE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether this browser already holds a live session for this preview: the cookie authenticates
 * (GET /__gate/status, a preview session, not a share), or the worker's grant is still renewable.
 */
async function liveSessionHere(): Promise<boolean> {
  try {
    const response = await fetch(GATE_PATHS.status, { credentials: 'same-origin', cache: 'no-store' });
    const body = (await response.json().catch(() => null)) as { authenticated?: unknown; kind?: unknown } | null;
    if (body?.authenticated === true && body.kind === 'session') return true;
  } catch {
    /* unreachable: ask the worker's store */
  }
  const grant = (await createTokenStore()
    .read()
    .catch(() => null)) as { refreshExpiresAt?: unknown } | null;
  return typeof grant?.refreshExpiresAt === 'number' && grant.refreshExpiresAt > Date.now() + 5_000;
}

async function launch(): Promise<void> {
  const params = new URLSearchParams(location.hash.slice(1));
  // The code is a one-time credential: out of the address bar (and history) before anything else.
  history.replaceState(history.state, '', location.pathname + location.search);
  const code = params.get(LAUNCH_CODE_FRAGMENT);
  const path = safePath(params.get(LAUNCH_PATH_FRAGMENT), location.origin);
  const workerAllowed = params.get('sw') !== '0';
  if (!code || !LAUNCH_CODE_SHAPE.test(code)) {
    showMalformedCode();
    return postToParent({ type: 'error', code: 'invalid_code', message: 'The link carries no valid launch code.' });
  }

  let response: Response;
  const exchange = (confirmed: boolean) =>
    fetch(GATE_PATHS.session, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'content-type': 'application/json' },
      // The gateway's launch page may say which cookie mode it saw for this navigation
      // (partitioned in a cross-site iframe); the POST itself cannot show it (Sec-Fetch-Dest: empty).
      // `context`: where this page runs, so a launch link opened by someone else signs nobody in.
      body: JSON.stringify({ code, ...cookieModeHint(), context: launchContext(), ...(confirmed ? { confirmed } : {}) }),
    });
  try {
    response = await exchange(false);
    if (response.status === 409) {
      const asked = await readGateError(response.clone(), 'invalid_code');
      if (asked.code === 'confirmation_required') {
        await askToContinue(asked.message);
        response = await exchange(true);
      }
    }
  } catch {
    return fail('network_error', 'The gateway could not be reached.');
  }
  if (!response.ok) {
    const error = await readGateError(response, 'invalid_code');
    // The link opened again in a tab of its own that is already signed in to this preview: go on.
    if (error.code === 'invalid_code' && window.parent === window && (await liveSessionHere())) return location.replace(path);
    return fail(error.code, error.message);
  }
  const answer: unknown = await response.json().catch(() => null);
  if (!isTokenGrant(answer)) return fail('internal', 'The gateway answered the launch with something unexpected.');
  // Apps on several ports: each sibling origin sets its own cookies from a single-use code (spent here, never stored).
  const { siblingLaunches, ...grant } = answer as typeof answer & { siblingLaunches?: unknown; cookieMode?: unknown };
  const siblingCookies = await exchangeSiblingCodes(siblingLaunches, grant.cookieMode);
  const siblingsCookieless = Array.isArray(siblingLaunches) && siblingCookies.length < siblingLaunches.length;

  let credentialPath: CredentialPath = 'cookie';
  const store = createTokenStore();
  // Does the exchange's cookie come back here? WebKit refuses every cookie in a cross-site frame
  // (and Secure ones over plain http): then the worker must carry everything (`worker-only`).
  const cookie = await cookieWorks();
  if (workerAllowed) {
    // A sibling origin whose cookie is refused makes the grant cookie-less too: the worker then
    // carries its EventSource and WebSocket tickets (sw/worker/sibling-origins.ts).
    const stored = await store.write({ ...grant, receivedAt: Date.now(), ...(cookie && !siblingsCookieless ? {} : { cookieless: true }) }).then(
      () => true,
      () => false,
    );
    if (stored && (await installWorker())) credentialPath = cookie ? 'worker' : 'worker-only';
    // No worker: the tokens would only sit where page scripts can read them. The cookie carries on.
    else await store.clear();
  } else {
    await store.clear();
    await removeWorkers();
  }
  if (credentialPath === 'cookie' && !cookie) {
    return fail('storage_refused', 'Neither a cookie nor a Service Worker is allowed here.');
  }
  // In the embed's frame, an app that forbids framing would show a blank frame: say so instead.
  // Without a cookie only the worker can carry that check's request: it waits until the worker
  // controls this page (a request sent before would be refused 401 and read the refusal's headers,
  // not the app's), and is skipped if it never does.
  const framed = window.parent !== window;
  if (framed && (credentialPath !== 'worker-only' || (await controlledWithin(WORKER_WAIT_MS))) && (await appRefusesFraming(path))) {
    return fail('frame_refused', 'The app does not allow being embedded in another page.');
  }
  postToParent({ type: 'launched', credentialPath });
  document.documentElement.dataset.credentialPath = credentialPath;
  location.replace(path);
}

function fail(code: PageErrorCode, message: string): void {
  showFailure(code, message);
  postToParent({ type: 'error', code, message });
}

/** A server-rendered error page: report it to the embedding page and wire its buttons. */
function errorPage(): void {
  const code = document.body.dataset.gateCode ?? 'internal';
  const action = document.body.dataset.gateAction;
  const message = document.body.dataset.gateMessage ?? '';
  const actions = document.querySelector('.actions');
  if (isWaitingCode(code)) {
    postToParent({ type: 'waiting', code, message });
    // In a frame, the server-rendered "Back to the app" would open the app inside the frame.
    actions?.replaceChildren(...actionButtons('reload'));
    void waitingPage();
    return;
  }
  postToParent({ type: 'error', code: (isErrorCode(code) || code === 'storage_refused' ? code : 'internal') as PageErrorCode, message });
  if (actions && (action === 'relaunch' || action === 'reload' || action === 'new-tab')) {
    actions.replaceChildren(...actionButtons(action));
  }
}

/** The waiting page: checks again with backoff and opens the app as soon as it answers. */
async function waitingPage(): Promise<void> {
  const progress = document.querySelector('.progress');
  const spinner = document.querySelector('.spinner');
  const url = location.href;
  let storage: Storage | null = null;
  try {
    storage = sessionStorage;
  } catch {
    /* refused (storage blocked): the bound holds per page load */
  }
  await waitForApp({
    url,
    from: resumeWait(url, Date.now(), storage),
    onAttempt: (p) => saveWait(url, p, storage),
    onProgress(seconds) {
      if (!progress) return;
      if (seconds === null) {
        spinner?.remove();
        progress.textContent = 'Stopped checking: nothing answered for 5 minutes. Start the app, then reload.';
      } else progress.textContent = `Checking again in ${seconds} s…`;
    },
    onReady() {
      if (progress) progress.textContent = 'The app answers: opening it…';
      location.reload();
    },
  });
}

const page = document.body?.dataset.gatePage;
if (page === 'error' || page === 'waiting') errorPage();
else {
  void launch();
  // A new launch URL that differs from this page only by its fragment (an embed relaunching a
  // frame that sits on a spent launch page) is a same-document navigation: launch again.
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(location.hash.slice(1)).has(LAUNCH_CODE_FRAGMENT)) void launch();
  });
}
