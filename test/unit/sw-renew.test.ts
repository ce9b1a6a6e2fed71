import { describe, expect, it } from 'vitest';
import { createRenewer, needsRenewal } from '../../sw/worker/renew.js';
import { createTokenStore } from '../../sw/worker/token-store.js';
import { grant, jsonResponse, memoryKeyValue } from './sw-fakes.js';

function setup(answer: (req: Request) => Promise<Response>) {
  let now = 1_000_000;
  const requests: Request[] = [];
  const store = createTokenStore(memoryKeyValue());
  const renewer = createRenewer({
    fetch: async (req) => (requests.push(req), answer(req)),
    store,
    clock: () => now,
    refreshUrl: 'http://3000-a.preview.localhost/__gate/refresh',
  });
  return { store, renewer, requests, tick: (ms: number) => (now += ms), now: () => now };
}

describe('sw renewal', () => {
  it('renews ahead of expiry: under 30 s left, or a third of a short lifetime', () => {
    expect(needsRenewal(grant('a', 0, 300_000), 200_000)).toBe(false);
    expect(needsRenewal(grant('a', 0, 300_000), 271_000)).toBe(true);
    // A 6 s token renews in its last 2 s, not on every request.
    expect(needsRenewal(grant('a', 0, 6_000), 3_000)).toBe(false);
    expect(needsRenewal(grant('a', 0, 6_000), 4_500)).toBe(true);
  });

  it('sends the refresh token as a Bearer, without cookies, and stores the new grant', async () => {
    const t = setup(async () => jsonResponse(200, { accessToken: 'a2', refreshToken: 'r2', expiresAt: 2e6, refreshExpiresAt: 9e6 }));
    await t.store.write(grant('a1', t.now()));
    const result = await t.renewer.renew('a1');
    expect(result.kind).toBe('renewed');
    const req = t.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers.get('authorization')).toBe('Bearer r-a1');
    expect(req.credentials).toBe('omit');
    const stored = await t.store.read();
    expect(stored).toMatchObject({ accessToken: 'a2', refreshToken: 'r2', receivedAt: t.now() });
  });

  it('concurrent renewals share ONE refresh request (single-flight)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = setup(async () => {
      await gate;
      return jsonResponse(200, { accessToken: 'a2', refreshToken: 'r2', expiresAt: 2e6, refreshExpiresAt: 9e6 });
    });
    await t.store.write(grant('a1', t.now()));
    const all = Array.from({ length: 20 }, () => t.renewer.renew('a1'));
    release();
    const results = await Promise.all(all);
    expect(t.requests).toHaveLength(1);
    expect(results.every((r) => r.kind === 'renewed' && r.grant.accessToken === 'a2')).toBe(true);
  });

  it('does not renew again for a request that saw the token another request already replaced', async () => {
    const t = setup(async () => jsonResponse(200, { accessToken: 'a3', refreshToken: 'r3', expiresAt: 2e6, refreshExpiresAt: 9e6 }));
    await t.store.write(grant('a2', t.now()));
    const result = await t.renewer.renew('a1');
    expect(result).toMatchObject({ kind: 'renewed', grant: { accessToken: 'a2' } });
    expect(t.requests).toHaveLength(0);
  });

  it('a revoked session clears the tokens (dead); a gateway outage keeps them (unavailable)', async () => {
    const revoked = setup(async () => jsonResponse(401, { error: { code: 'session_revoked', message: 'revoked' } }));
    await revoked.store.write(grant('a1', revoked.now()));
    expect(await revoked.renewer.renew('a1')).toEqual({ kind: 'dead', code: 'session_revoked' });
    expect(await revoked.store.read()).toBeUndefined();

    const down = setup(async () => {
      throw new TypeError('network');
    });
    await down.store.write(grant('a1', down.now()));
    expect(await down.renewer.renew('a1')).toEqual({ kind: 'unavailable' });
    expect((await down.store.read())?.accessToken).toBe('a1');

    const busy = setup(async () => jsonResponse(503, { error: { code: 'daytona_unavailable', message: 'x' } }));
    await busy.store.write(grant('a1', busy.now()));
    expect(await busy.renewer.renew('a1')).toEqual({ kind: 'unavailable' });
  });

  it('a refresh the network never answers (or whose answer never ends) is given up at its deadline: unavailable, and the next renewal tries again', async () => {
    // Single-flight: every request that finds the token stale awaits this one renewal, and each
    // of them holds a fetch event of the worker; an unbounded one would hold them all for good
    // (and with them a waiting worker version: ARCHITECTURE.md flow 15).
    let calls = 0;
    const kv = memoryKeyValue();
    const store = createTokenStore(kv);
    const renewer = createRenewer({
      fetch: (req) => {
        calls++;
        // 1: the answer never comes (and the fake ignores the signal); 2: its body never ends.
        if (calls === 1) return new Promise<Response>(() => {});
        const endless = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"acc')) });
        if (calls === 2) return Promise.resolve(new Response(endless, { status: 200 }));
        expect(req.signal).toBeInstanceOf(AbortSignal);
        return Promise.resolve(jsonResponse(200, { accessToken: 'a2', refreshToken: 'r2', expiresAt: 2e6, refreshExpiresAt: 9e6 }));
      },
      store,
      clock: () => 1_000_000,
      refreshUrl: 'http://3000-a.preview.localhost/__gate/refresh',
      timeoutMs: 50,
    });
    await store.write(grant('a1', 1_000_000));
    const started = Date.now();
    expect(await Promise.all([renewer.renew('a1'), renewer.renew('a1')])).toEqual([{ kind: 'unavailable' }, { kind: 'unavailable' }]);
    expect(await renewer.renew('a1')).toEqual({ kind: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await store.read())?.accessToken).toBe('a1'); // the old tokens are kept
    expect((await renewer.renew('a1')).kind).toBe('renewed');
    expect(calls).toBe(3);
  });

  it("two worker instances of one origin (an old and a new version, or the app's own worker with our layer) never present a rotated refresh credential", async () => {
    // One IndexedDB, two workers, each with its own memory copy of the grant.
    const kv = memoryKeyValue();
    let now = 1_000_000;
    let n = 1;
    const presented: string[] = [];
    const make = () => {
      const store = createTokenStore(kv);
      const renewer = createRenewer({
        fetch: async (req) => {
          presented.push(req.headers.get('authorization') ?? '');
          n++;
          return jsonResponse(200, { accessToken: `a${n}`, refreshToken: `r${n}`, expiresAt: now + 300_000, refreshExpiresAt: now + 3_600_000 });
        },
        store,
        clock: () => now,
        refreshUrl: 'http://3000-a.preview.localhost/__gate/refresh',
      });
      return { store, renewer };
    };
    const older = make();
    const newer = make();
    await older.store.write({ ...grant('a1', now), refreshToken: 'r1' });
    expect((await older.store.read())?.refreshToken).toBe('r1'); // in the older worker's memory
    expect((await newer.renewer.renew('a1')).kind).toBe('renewed'); // r1 → r2, written to IndexedDB
    now += 280_000; // the older worker's copy is about to expire: it renews with what IndexedDB holds
    expect((await older.renewer.renew('a1')).kind).toBe('renewed');
    expect(presented).toEqual(['Bearer r1', 'Bearer r2']);
  });
});
