/**
 * Groundwork for the app's own Service Worker (sw/worker/compose.ts, not wired to the gateway
 * yet): inside an app's worker, the app's own fetches get the token, the app's answers stay the
 * app's, and what it leaves unanswered is answered with the token.
 */
import { describe, expect, it } from 'vitest';
import { installComposition, type ComposableScope, type FetchEventLike } from '../../sw/worker/compose.js';

const ORIGIN = 'http://3000-abc.preview.localhost:8787';

/** A fresh FetchEvent stand-in per test (the composition patches its prototype's respondWith). */
function fakeFetchEventClass() {
  return class FakeFetchEvent implements FetchEventLike {
    answer: Promise<Response> | Response | undefined;
    constructor(readonly request: Request) {}
    respondWith(response: Response | Promise<Response>): void {
      if (this.answer) throw new Error('InvalidStateError: already answered');
      this.answer = response;
    }
  };
}

function setup() {
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
  const composed = installComposition(scope, FakeFetchEvent.prototype, async (request) => {
    handled.push(request.url);
    return new Response('with token');
  });
  const dispatch = (url: string) => {
    const e = new FakeFetchEvent(new Request(url));
    for (const l of listeners) l(e);
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
});
