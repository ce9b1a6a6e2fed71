/**
 * The credential layer inside an app's own Service Worker (sw/worker/compose.ts, ARCHITECTURE.md
 * flow 15): the app's own fetches (and its precaching) get the token, the app's answers stay the
 * app's, and what it leaves unanswered is answered with the token. Real browsers: test/e2e/app-worker*.
 */
import { describe, expect, it } from 'vitest';
import { shouldIntercept } from '../../sw/worker/attach-token.js';
import { installComposition, type CacheLike, type ComposableScope, type FetchEventLike } from '../../sw/worker/compose.js';

const ORIGIN = 'http://3000-abc.preview.localhost:8787';

/** A fresh FetchEvent stand-in per test (the composition patches its prototype's respondWith). */
function fakeFetchEventClass() {
  return class FakeFetchEvent implements FetchEventLike {
    answer: Promise<Response> | Response | undefined;
    stopped = false;
    constructor(readonly request: Request) {}
    stopImmediatePropagation(): void {
      this.stopped = true;
    }
    respondWith(response: Response | Promise<Response>): void {
      if (this.answer) throw new Error('InvalidStateError: already answered');
      this.answer = response;
    }
  };
}

function setup(cache?: CacheLike) {
  const network: string[] = [];
  const handled: string[] = [];
  const listeners: ((e: FetchEventLike) => void)[] = [];
  const scope: ComposableScope = {
    location: { origin: ORIGIN },
    fetch: async (input) => {
      network.push(new Request(input).url);
      return new Response('network');
    },
    addEventListener: (_type, l) => void listeners.push(l),
  };
  const FakeFetchEvent = fakeFetchEventClass();
  const handle = async (request: Request) => {
    handled.push(request.url);
    return new Response(new URL(request.url).pathname === '/missing' ? 'gone' : 'with token', {
      status: new URL(request.url).pathname === '/missing' ? 404 : 200,
    });
  };
  const composed = installComposition(scope, FakeFetchEvent.prototype, handle, (request) => (shouldIntercept(request, ORIGIN) ? handle(request) : null), cache);
  const dispatch = (url: string) => {
    const e = new FakeFetchEvent(new Request(url));
    for (const l of listeners) {
      if (e.stopped) break;
      l(e);
    }
    return e;
  };
  return { scope, composed, network, handled, listeners, dispatch };
}

describe("sw compose: the credential layer inside an app's own worker", () => {
  it("the app worker's own same-origin fetches get the token; other origins and /__gate/ do not", async () => {
    const { scope, network, handled } = setup();
    await scope.fetch(`${ORIGIN}/assets/app.js`);
    await scope.fetch('https://cdn.example.com/lib.js');
    await scope.fetch(`${ORIGIN}/__gate/status`);
    expect(handled).toEqual([`${ORIGIN}/assets/app.js`]);
    expect(network).toEqual(['https://cdn.example.com/lib.js', `${ORIGIN}/__gate/status`]);
  });

  it("a request the app answers stays the app's; one it leaves is answered with the token by the last listener", async () => {
    const { composed, listeners, dispatch, handled } = setup();
    listeners.push((e) => {
      if (new URL(e.request.url).pathname === '/offline.html') e.respondWith(new Response('app cache'));
    });
    composed.finish();
    const cached = dispatch(`${ORIGIN}/offline.html`);
    expect(await (await cached.answer!).text()).toBe('app cache');
    const left = dispatch(`${ORIGIN}/api/data`);
    expect(await (await left.answer!).text()).toBe('with token');
    const foreign = dispatch('https://cdn.example.com/x.js');
    expect(foreign.answer).toBeUndefined();
    expect(handled).toEqual([`${ORIGIN}/api/data`]);
  });

  it("the app's precaching (Cache.add/addAll) fetches through the token layer, all or nothing as the browser's", async () => {
    const stored = new Map<string, string>();
    class FakeCache implements CacheLike {
      add(_request: RequestInfo | URL): Promise<void> {
        throw new Error('the browser implementation must be replaced');
      }
      addAll(_requests: Iterable<RequestInfo | URL>): Promise<void> {
        throw new Error('the browser implementation must be replaced');
      }
      async put(request: RequestInfo | URL, response: Response): Promise<void> {
        stored.set(new Request(request).url, await response.text());
      }
    }
    const { handled, network } = setup(FakeCache.prototype);
    const cache = new FakeCache();
    await cache.addAll([`${ORIGIN}/`, `${ORIGIN}/offline.html`, 'https://cdn.example.com/font.woff2']);
    await cache.add(`${ORIGIN}/app.js`);
    expect(handled).toEqual([`${ORIGIN}/`, `${ORIGIN}/offline.html`, `${ORIGIN}/app.js`]);
    expect(network).toEqual(['https://cdn.example.com/font.woff2']);
    expect(stored.get(`${ORIGIN}/offline.html`)).toBe('with token');
    // A non-OK answer rejects and stores nothing of the batch (Cache API semantics).
    stored.clear();
    await expect(cache.addAll([`${ORIGIN}/a.js`, `${ORIGIN}/missing`])).rejects.toThrow(TypeError);
    expect(stored.size).toBe(0);
  });

  it("the gateway's own paths never reach the app's listeners (an SPA fallback cannot answer the launch page)", async () => {
    const { composed, listeners, dispatch } = setup();
    const appSaw: string[] = [];
    // An app that answers every navigation with its shell (Workbox navigateFallback).
    listeners.push((e) => {
      appSaw.push(new URL(e.request.url).pathname);
      e.respondWith(new Response('app shell'));
    });
    composed.finish();
    const launch = dispatch(`${ORIGIN}/__gate/launch`);
    expect(launch.stopped).toBe(true);
    expect(launch.answer).toBeUndefined(); // the network answers
    const page = dispatch(`${ORIGIN}/settings`);
    expect(await (await page.answer!).text()).toBe('app shell');
    expect(appSaw).toEqual(['/settings']);
  });
});
