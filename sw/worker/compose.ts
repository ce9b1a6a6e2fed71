/**
 * The preview's credential layer running *inside* the app's own Service Worker (ARCHITECTURE.md
 * flow 15). An app that registers its own worker at scope `/` replaces ours (one worker per
 * scope), so the gateway answers the app's worker script wrapped (broker/core/app-worker.ts):
 * `importScripts('/__gate/sw.js')` (a static `import` for module workers), the app's script,
 * then `self.__previewGate.finish()`. sw.ts sees it was imported into another script and calls
 * `installComposition` instead of registering its own routes:
 *  1. `self.fetch` is replaced: the app's worker code (`fetch(event.request)`, Workbox
 *     strategies) gets the access token on same-origin requests outside /__gate/, by the same
 *     handler as our own routes (renewal, retry); other requests go out untouched.
 *  2. `Cache.prototype.add`/`addAll` (precaching) fetch through that same `self.fetch`: the
 *     browser's own implementation would bypass it and go out with the cookie only.
 *  3. Fetch events the app's listeners answer (`respondWith`) are theirs: the app's cache and
 *     offline page work as written.
 *  4. `finish()` adds one last fetch listener: a request no app listener answered is answered by
 *     ours (`fallback`), so it still carries the credential.
 *  5. The gateway's own paths (`/__gate/`: launch page, bootstrap, session, refresh, tickets) are
 *     never the app's: our first listener, added before the app's script runs, stops the event
 *     there (the network or our ticket handler answers). An app's navigation fallback (an SPA
 *     shell served for every navigation, Workbox's `navigateFallback`) would otherwise answer the
 *     launch page with the app's shell, and its cache would keep copies of gateway answers.
 * Lifecycle (`skipWaiting`, `clients.claim`) is the app's: our layer reads the same grant in
 * every worker version, so it needs neither.
 */
import { RESERVED_PREFIX } from '../../protocol/index.js';
import { shouldIntercept } from './attach-token.js';

/** The parts of a ServiceWorkerGlobalScope the composition touches (tests pass fakes). */
export interface ComposableScope {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  location: { origin: string };
}

export interface FetchEventLike {
  request: Request;
  respondWith(response: Response | Promise<Response>): void;
  stopImmediatePropagation(): void;
}

/** The prototype whose `respondWith` is observed (FetchEvent.prototype in a worker). */
export interface RespondWithOwner {
  respondWith(this: FetchEventLike, response: Response | Promise<Response>): void;
}

/** Cache.prototype's methods that fetch (replaced) and store (used). */
export interface CacheLike {
  add(this: CacheLike, request: RequestInfo | URL): Promise<void>;
  addAll(this: CacheLike, requests: Iterable<RequestInfo | URL>): Promise<void>;
  put(request: RequestInfo | URL, response: Response): Promise<void>;
}

const ANSWERED = Symbol('preview-gate.answered');

export interface Composition {
  /** The browser's own fetch, for our layer's own requests (renewal, the token-carrying copy). */
  originalFetch: ComposableScope['fetch'];
  /** Adds our last fetch listener; the wrapper calls it after the app's script. */
  finish(): void;
}

export function installComposition(
  scope: ComposableScope,
  fetchEventPrototype: RespondWithOwner,
  handle: (request: Request) => Promise<Response>,
  fallback: (request: Request) => Promise<Response> | null,
  cachePrototype?: CacheLike,
): Composition {
  const origin = scope.location.origin;
  const originalFetch = scope.fetch.bind(scope);

  scope.fetch = (input, init) => {
    let request: Request;
    try {
      request = new Request(input, init);
    } catch (err) {
      return Promise.reject(err);
    }
    return shouldIntercept(request, origin) ? handle(request) : originalFetch(request);
  };

  if (cachePrototype) {
    // Cache.addAll as specified (all or nothing, a non-OK answer rejects), fetching through
    // self.fetch so the app's precache requests carry the token like its other requests.
    cachePrototype.addAll = async function (this: CacheLike, requests) {
      const list = [...requests].map((r) => new Request(r));
      const responses = await Promise.all(list.map((r) => scope.fetch(r)));
      responses.forEach((response, i) => {
        if (!response.ok) throw new TypeError(`Cache.addAll: ${list[i]!.url} answered ${response.status}`);
      });
      await Promise.all(list.map((r, i) => this.put(r, responses[i]!)));
    };
    cachePrototype.add = function (this: CacheLike, request) {
      return this.addAll([request]);
    };
  }

  const respondWith = fetchEventPrototype.respondWith;
  fetchEventPrototype.respondWith = function (this: FetchEventLike, response) {
    (this as unknown as Record<symbol, boolean>)[ANSWERED] = true;
    return respondWith.call(this, response);
  };

  scope.addEventListener('fetch', (event) => {
    let url: URL;
    try {
      url = new URL(event.request.url);
    } catch {
      return;
    }
    if (url.origin !== origin || !url.pathname.startsWith(RESERVED_PREFIX)) return;
    event.stopImmediatePropagation();
    const answer = fallback(event.request);
    if (answer) event.respondWith(answer);
  });

  let finished = false;
  return {
    originalFetch,
    finish() {
      if (finished) return;
      finished = true;
      scope.addEventListener('fetch', (event) => {
        if ((event as unknown as Record<symbol, boolean>)[ANSWERED]) return;
        const answer = fallback(event.request);
        if (answer) event.respondWith(answer);
      });
    },
  };
}
