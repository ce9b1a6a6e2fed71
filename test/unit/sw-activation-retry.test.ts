/**
 * The second activation attempt inside an app's own worker (sw/worker/activation-retry.ts,
 * ARCHITECTURE.md flow 15): the active version, started while an update waits, asks the waiting
 * version once no request reached it for a while; the waiting version calls `skipWaiting()` again
 * only if the app's own code asked for it. Real Chromium: test/e2e/app-worker.test.ts ("an update
 * while the page keeps fetching through the old worker").
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATE_AGAIN, installActivationRetry, type LifecycleScope } from '../../sw/worker/activation-retry.js';

interface FakeWorker {
  state: string;
  posted: unknown[];
  postMessage(message: unknown): void;
}

function worker(state: string): FakeWorker {
  return {
    state,
    posted: [],
    postMessage(message) {
      this.posted.push(message);
    },
  };
}

/** A scope with a manual clock and timer queue. */
function setup(opts: { own: FakeWorker | undefined; waiting: FakeWorker | null }) {
  let clock = 1_000;
  const timers: { at: number; fn: () => void }[] = [];
  const listeners: { message: ((e: { data: unknown; stopImmediatePropagation(): void }) => void)[]; fetch: (() => void)[] } = {
    message: [],
    fetch: [],
  };
  let nativeSkips = 0;
  const scope = {
    skipWaiting: async () => {
      nativeSkips++;
    },
    serviceWorker: opts.own,
    registration: { waiting: opts.waiting },
    addEventListener(type: 'message' | 'fetch', listener: never) {
      (listeners[type] as unknown[]).push(listener);
    },
  } as unknown as LifecycleScope;
  installActivationRetry(scope, {
    quietMs: 250,
    now: () => clock,
    setTimer: (fn, ms) => void timers.push({ at: clock + ms, fn }),
  });
  /** Moves the clock, running the timers that come due (in order). */
  const advance = (ms: number) => {
    const end = clock + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > end) break;
      timers.shift();
      clock = next.at;
      next.fn();
    }
    clock = end;
  };
  const fetchEvent = () => listeners.fetch.forEach((l) => l());
  const message = (data: unknown) => {
    const e = { data, stopped: false, stopImmediatePropagation: () => void (e.stopped = true) };
    listeners.message.forEach((l) => l(e));
    return e;
  };
  return { scope, advance, fetchEvent, message, timers, skips: () => nativeSkips };
}

describe('sw activation retry: a dropped activation of an app-worker update is tried once more', () => {
  it('the active version asks the waiting one once no request reached it for 250 ms, not before', () => {
    const waiting = worker('installed');
    const t = setup({ own: worker('activated'), waiting });
    // Requests keep arriving every 100 ms for a second: no message yet.
    for (let i = 0; i < 10; i++) {
      t.fetchEvent();
      t.advance(100);
    }
    expect(waiting.posted).toEqual([]);
    t.advance(300);
    expect(waiting.posted).toEqual([{ type: ACTIVATE_AGAIN }]);
    t.advance(5_000);
    expect(waiting.posted.length).toBe(1); // once
  });

  it('an active version still `activating` waits for its own activation to end first', () => {
    const own = worker('activating');
    const waiting = worker('installed');
    const t = setup({ own, waiting });
    t.advance(2_000);
    expect(waiting.posted).toEqual([]);
    own.state = 'activated';
    t.advance(300);
    expect(waiting.posted).toEqual([{ type: ACTIVATE_AGAIN }]);
  });

  it('nothing is asked when no update waits, when it activated meanwhile, or without self.serviceWorker', () => {
    const none = setup({ own: worker('activated'), waiting: null });
    none.advance(1_000);
    expect(none.timers).toEqual([]);

    const waiting = worker('installed');
    const t = setup({ own: worker('activated'), waiting });
    waiting.state = 'activating';
    t.advance(1_000);
    expect(waiting.posted).toEqual([]);

    const old = worker('installed');
    const noSelf = setup({ own: undefined, waiting: old });
    noSelf.advance(1_000);
    expect(old.posted).toEqual([]);
  });

  it("the waiting version calls skipWaiting() again only if the app's code asked for it, once, and keeps the message from the app", async () => {
    // Positive: the app called skipWaiting() (during its install), the version is now `installed`.
    const own = worker('installing');
    const asked = setup({ own, waiting: null });
    await asked.scope.skipWaiting();
    expect(asked.skips()).toBe(1);
    own.state = 'installed';
    const e = asked.message({ type: ACTIVATE_AGAIN });
    expect(e.stopped).toBe(true);
    expect(asked.skips()).toBe(2);
    asked.message({ type: ACTIVATE_AGAIN });
    expect(asked.skips()).toBe(2); // once: Chromium ignores later calls while the first waits anyway

    // Refused: the app did not ask (it waits for its user to accept the update).
    const own2 = worker('installed');
    const notAsked = setup({ own: own2, waiting: null });
    const e2 = notAsked.message({ type: ACTIVATE_AGAIN });
    expect(e2.stopped).toBe(true);
    expect(notAsked.skips()).toBe(0);

    // The app's own messages pass untouched.
    const e3 = notAsked.message({ type: 'app:hello' });
    expect(e3.stopped).toBe(false);
    expect(notAsked.message(null).stopped).toBe(false);
  });

  it('a waiting version that is no longer `installed` does not call it', async () => {
    const own = worker('installing');
    const t = setup({ own, waiting: null });
    await t.scope.skipWaiting();
    own.state = 'activated';
    t.message({ type: ACTIVATE_AGAIN });
    expect(t.skips()).toBe(1);
  });
});
