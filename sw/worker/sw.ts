/**
 * The preview-gate Service Worker, served at /__gate/sw.js with scope '/' on every preview
 * origin. It adds `X-Daytona-Preview-Token: <access token>` to the page's same-origin requests
 * and keeps the token fresh; see attach-token.ts for what it leaves alone (other origins,
 * /__gate/, EventSource and media streams) and handle-request.ts for renewal and retry.
 */
import { Route, registerRoute } from 'workbox-routing';
import type { HTTPMethod } from 'workbox-routing/utils/constants.js';
import { GATE_PATHS } from '../../protocol/index.js';
import { shouldIntercept } from './attach-token.js';
import { createRequestHandler } from './handle-request.js';
import { SESSION_DEAD, TOKENS_CLEAR, isWorkerMessage, type SessionDeadMessage } from './messages.js';
import { createRenewer } from './renew.js';
import { createTokenStore } from './token-store.js';

const sw = self as unknown as ServiceWorkerGlobalScope;
const origin = sw.location.origin;
const clock = () => Date.now();
const fetchFn = (request: Request) => fetch(request);

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

// A new version takes over at once; open pages keep working because every version reads the
// same IndexedDB grant and requests already in flight finish on the worker that took them.
sw.addEventListener('install', () => {
  void sw.skipWaiting();
});
sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
});

// Same-origin pages only can message their worker. The reply on the transferred port tells the
// bootstrap the worker has dropped its old grant before the page navigates.
sw.addEventListener('message', (event) => {
  if (!isWorkerMessage(event.data)) return;
  const done = event.data.type === TOKENS_CLEAR ? store.clear() : Promise.resolve(store.forget());
  event.waitUntil(done.then(() => event.ports[0]?.postMessage({ ok: true })));
});

// workbox-routing matches per method; register the one match for each method a page can send.
const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
for (const method of METHODS) {
  registerRoute(
    new Route(
      ({ request }) => shouldIntercept(request, origin),
      ({ request }) => handle(request),
      method,
    ),
  );
}
