/**
 * Groundwork for issue 12 item 3 (an app that registers its own Service Worker at scope `/`,
 * which replaces ours): the preview's credential layer running *inside* the app's worker.
 * Not wired yet: the gateway does not serve the wrapped worker script today (see the plan below).
 *
 * Plan: the gateway recognises the app's worker script (`Service-Worker: script` on the request)
 * and answers a wrapper — `importScripts('/__gate/sw.js')` (composition mode), then the app's
 * script, then `finish()` — for classic workers (a static `import` for module workers).
 * `installComposition` is what our part does there:
 *  1. `self.fetch` is replaced: the app's worker code (`fetch(event.request)`, `cache.addAll`,
 *     Workbox strategies) gets the access token on same-origin requests outside /__gate/, by the
 *     same handler as our own routes (renewal, retry); other requests go out untouched.
 *  2. Fetch events the app's listeners answer (`respondWith`) are theirs: the app's cache and
 *     offline page work as written.
 *  3. `finish()` adds one last fetch listener: a same-origin request no app listener answered
 *     is answered by our handler, so it still carries the credential.
 */
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
}

/** The prototype whose `respondWith` is observed (FetchEvent.prototype in a worker). */
export interface RespondWithOwner {
  respondWith(this: FetchEventLike, response: Response | Promise<Response>): void;
}

const ANSWERED = Symbol('preview-gate.answered');

export function installComposition(
  scope: ComposableScope,
  fetchEventPrototype: RespondWithOwner,
  handle: (request: Request) => Promise<Response>,
): { originalFetch: ComposableScope['fetch']; finish(): void } {
  const origin = scope.location.origin;
  const originalFetch = scope.fetch.bind(scope);

  scope.fetch = (input, init) => {
    const request = new Request(input, init);
    return shouldIntercept(request, origin) ? handle(request) : originalFetch(request);
  };

  const respondWith = fetchEventPrototype.respondWith;
  fetchEventPrototype.respondWith = function (this: FetchEventLike, response) {
    (this as unknown as Record<symbol, boolean>)[ANSWERED] = true;
    return respondWith.call(this, response);
  };

  return {
    originalFetch,
    finish() {
      scope.addEventListener('fetch', (event) => {
        if ((event as unknown as Record<symbol, boolean>)[ANSWERED]) return;
        if (shouldIntercept(event.request, origin)) event.respondWith(handle(event.request));
      });
    },
  };
}
