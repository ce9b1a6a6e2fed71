/**
 * The preview-gate Service Worker, served at /__gate/sw.js with scope '/' on every preview
 * origin. It adds `X-Daytona-Preview-Token: <access token>` to the page's same-origin requests
 * and keeps the token fresh; see attach-token.ts for what it leaves alone (other origins,
 * /__gate/, EventSource and media streams) and handle-request.ts for renewal and retry.
 *
 * On the cookie-less path (the grant's `cookieless` mark: the browser refuses every cookie in
 * this context, e.g. WebKit's cross-site iframe) it also carries what the cookie would have:
 * EventSource requests get the token, `POST /__gate/ws-ticket` gets it (so the WebSocket
 * wrapper obtains tickets), and the app's HTML navigations get the wrapper's `<script>` tag
 * (inject-shim.ts). ARCHITECTURE.md flow 12.
 *
 * Imported into the app's own worker (the gateway wraps an app's worker script around this one,
 * broker/core/app-worker.ts: `self.location` is then the app's script, not /__gate/sw.js) it
 * runs in composition mode instead (compose.ts, ARCHITECTURE.md flow 15): no routes and no
 * lifecycle of its own; the app's fetches carry the token, and requests the app's listeners
 * leave alone are answered last by the same handler.
 */
import { Route, registerRoute } from 'workbox-routing';
import type { HTTPMethod } from 'workbox-routing/utils/constants.js';
import { GATE_PATHS } from '../../protocol/index.js';
import { isEventStream, isTicketRequest, shouldIntercept } from './attach-token.js';
import { installActivationRetry, type LifecycleScope } from './activation-retry.js';
import { installComposition, type CacheLike, type RespondWithOwner } from './compose.js';
import { createRequestHandler } from './handle-request.js';
import { withShim } from './inject-shim.js';
import { SESSION_DEAD, TOKENS_CLEAR, isWorkerMessage, type SessionDeadMessage } from './messages.js';
import { createRenewer } from './renew.js';
import { createTokenStore } from './token-store.js';
import { createSiblingHandler, siblingRoute } from './sibling-origins.js';

const sw = self as unknown as ServiceWorkerGlobalScope;
const origin = sw.location.origin;
const clock = () => Date.now();
// The browser's own fetch, taken before composition mode replaces `self.fetch` with ours.
const nativeFetch = sw.fetch.bind(sw);
const fetchFn = (request: Request) => nativeFetch(request);
/** The global the wrapper calls `finish()` on (broker/core/app-worker.ts#COMPOSE_GLOBAL). */
const COMPOSE_GLOBAL = '__previewGate';
const composed = sw.location.pathname !== GATE_PATHS.serviceWorker;

const store = createTokenStore();
const renewer = createRenewer({ fetch: fetchFn, store, clock, refreshUrl: origin + GATE_PATHS.refresh });
const handle = createRequestHandler({
  fetch: fetchFn,
  store,
  renewer,
  clock,
  onDead(code) {
    const message: SessionDeadMessage = { type: SESSION_DEAD, code };
    void sw.clients.matchAll({ type: 'window' }).then((list) => list.forEach((c) => c.postMessage(message)));
  },
});

// Apps on several ports: the sibling origins of the grant, each with its own token (sibling-origins.ts).
const handleSibling = createSiblingHandler({
  fetch: fetchFn,
  store,
  renewer,
  clock,
  onDead: (code) => void sw.clients.matchAll({ type: 'window' }).then((list) => list.forEach((c) => c.postMessage({ type: SESSION_DEAD, code }))),
});
const isSibling = siblingRoute(sw.location);

// A new version takes over at once; open pages keep working because every version reads the
// same IndexedDB grant and requests already in flight finish on the worker that took them.
// Inside the app's worker the lifecycle is the app's (its update prompt, its skipWaiting).
if (!composed) {
  sw.addEventListener('install', () => {
    void sw.skipWaiting();
  });
  sw.addEventListener('activate', (event) => {
    event.waitUntil(sw.clients.claim());
  });
}

// Same-origin pages only can message their worker. The reply on the transferred port tells the
// bootstrap the worker has dropped its old grant before the page navigates.
sw.addEventListener('message', (event) => {
  if (!isWorkerMessage(event.data)) return;
  const done =
    event.data.type === TOKENS_CLEAR
      ? store.clear().then(() => {
          cookieless = undefined;
        })
      : Promise.resolve(store.forget()).then(() => readGrant().then(() => undefined));
  event.waitUntil(done.then(() => event.ports[0]?.postMessage({ ok: true })));
});

/**
 * Whether this context refuses cookies, as far as the worker knows synchronously (a route's match
 * cannot wait for IndexedDB): from the last grant read; undefined until one was read (a worker
 * just started by this very request).
 */
let cookieless: boolean | undefined;
const readGrant = () =>
  store.read().then((g) => {
    cookieless = g ? g.cookieless === true : undefined;
    return g;
  });
void readGrant();

async function handleAny(request: Request): Promise<Response> {
  const response = await handle(request);
  if (request.mode !== 'navigate') return response;
  // The app's pages get the WebSocket wrapper on the cookie-less path only.
  return (await readGrant())?.cookieless ? withShim(response) : response;
}

/**
 * What our layer answers of a request, or null to let it pass: the app's same-origin requests
 * (with the WebSocket wrapper on navigations where no cookie works), the wrapper's ticket
 * request, and EventSource where no cookie works.
 */
function answerFor(request: Request): Promise<Response> | null {
  if (shouldIntercept(request, origin)) return handleAny(request);
  if (isTicketRequest(request, origin)) return handle(request);
  if (isSibling(request)) return handleSibling(request);
  if (cookieless !== false && isEventStream(request, origin)) {
    return readGrant().then((g) => (g?.cookieless ? handle(request) : fetchFn(request)));
  }
  return null;
}

if (composed) {
  const composition = installComposition(
    sw,
    FetchEvent.prototype as unknown as RespondWithOwner,
    handle,
    answerFor,
    (sw as unknown as { Cache?: { prototype: CacheLike } }).Cache?.prototype,
  );
  (sw as unknown as Record<string, unknown>)[COMPOSE_GLOBAL] = { finish: composition.finish };
  // Chromium can drop the activation of the app's update (activation-retry.ts): try once more.
  installActivationRetry(sw as unknown as LifecycleScope);
} else {
  registerRoutes();
}

function registerRoutes(): void {
  // The app's requests. workbox-routing matches per method; register the one match for each method.
  const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  for (const method of METHODS) {
    registerRoute(
      new Route(
        ({ request }) => shouldIntercept(request, origin),
        ({ request }) => handleAny(request),
        method,
      ),
    );
  }
  // The WebSocket wrapper's ticket request: the token where there is one (the cookie otherwise).
  registerRoute(
    new Route(
      ({ request }) => isTicketRequest(request, origin),
      ({ request }) => handle(request),
      'POST',
    ),
  );
  // EventSource: the cookie path where a cookie works (not intercepted: long streams are most
  // robust without the worker); with the token on the cookie-less path. When the worker does not
  // know yet, it looks at the grant and passes the request through unchanged if a cookie works.
  registerRoute(
    new Route(
      ({ request }) => cookieless !== false && isEventStream(request, origin),
      async ({ request }) => ((await readGrant())?.cookieless ? handle(request) : fetch(request)),
      'GET',
    ),
  );
  // Apps on several ports: CORS requests to a sibling origin of the grant get that origin's token (sibling-origins.ts).
  for (const method of METHODS) {
    registerRoute(
      new Route(
        ({ request }) => isSibling(request),
        ({ request }) => handleSibling(request),
        method,
      ),
    );
  }
}
