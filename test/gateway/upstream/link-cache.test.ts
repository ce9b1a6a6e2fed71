import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../../protocol/index.js';
import { createLinkCache, LINK_CACHE_METRIC } from '../../../broker/core/upstream/index.js';
import { clientRequest, principal, recordingMetrics, startRig, type Rig } from './support.js';

describe('link cache (unit, fake loader and clock)', () => {
  const target = (port: number, sandboxId = 'sbx') => ({ sandboxId, port });

  it('caches within the TTL and re-fetches after it', async () => {
    let now = 0;
    let calls = 0;
    const cache = createLinkCache({
      load: async () => ({ url: 'http://x', token: `t${++calls}` }),
      clock: () => now,
      options: { ttlMs: 1000 },
    });
    expect((await cache.get(target(1))).token).toBe('t1');
    now = 999;
    expect((await cache.get(target(1))).token).toBe('t1');
    now = 1000;
    expect((await cache.get(target(1))).token).toBe('t2');
    expect(calls).toBe(2);
  });

  it('renews a signed link after two thirds of its life, and never serves it stale past its expiry', async () => {
    let now = 0;
    let calls = 0;
    let down = false;
    const cache = createLinkCache({
      load: async () => {
        if (down) throw new GateError('daytona_unavailable', 'down');
        calls++;
        return { url: 'http://x', token: `s${calls}`, signed: true, expiresAt: now + 90_000 };
      },
      clock: () => now,
      options: { ttlMs: 10 * 60_000, errorBackoffMs: 5_000 },
    });
    expect((await cache.get(target(1))).token).toBe('s1');
    now = 59_999;
    expect((await cache.get(target(1))).token).toBe('s1');
    now = 60_000; // two thirds of 90 s
    expect((await cache.get(target(1))).token).toBe('s2');
    // API down: the live link (expires at 150 s) is served stale, never past its expiry.
    down = true;
    now = 120_000;
    expect((await cache.get(target(1))).token).toBe('s2');
    now = 150_001;
    await expect(cache.get(target(1))).rejects.toMatchObject({ code: 'daytona_unavailable' });
  });

  it('evicts the least recently used entry past maxEntries', async () => {
    let calls = 0;
    const cache = createLinkCache({ load: async (t) => ({ url: 'http://x', token: `${t.port}:${++calls}` }), options: { maxEntries: 2 } });
    await cache.get(target(1));
    await cache.get(target(2));
    await cache.get(target(1)); // 1 is now the most recent
    await cache.get(target(3)); // evicts 2
    expect(cache.size).toBe(2);
    expect((await cache.get(target(1))).token).toBe('1:1');
    expect((await cache.get(target(2))).token).toBe('2:4');
  });

  it('shares one load between concurrent misses (single-flight) and counts hits and misses', async () => {
    let calls = 0;
    const metrics = recordingMetrics();
    const cache = createLinkCache({
      load: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return { url: 'http://x', token: 't' };
      },
      metrics,
    });
    await Promise.all(Array.from({ length: 20 }, () => cache.get(target(1))));
    await cache.get(target(1));
    expect(calls).toBe(1);
    expect(metrics.count(LINK_CACHE_METRIC, { result: 'miss' })).toBe(20);
    expect(metrics.count(LINK_CACHE_METRIC, { result: 'hit' })).toBe(1);
  });

  it('serves a stale link when the API is down, but never after a rejection', async () => {
    let now = 0;
    let down = false;
    const cache = createLinkCache({
      load: async () => {
        if (down) throw new GateError('daytona_unavailable', 'down');
        return { url: 'http://x', token: 'old' };
      },
      clock: () => now,
      options: { ttlMs: 10, minRefreshIntervalMs: 0 },
    });
    await cache.get(target(1));
    down = true;
    now = 100;
    expect((await cache.get(target(1))).token).toBe('old');
    await expect(cache.refresh(target(1), 'old')).rejects.toMatchObject({ code: 'daytona_unavailable' });
    await expect(cache.get(target(1))).rejects.toMatchObject({ code: 'daytona_unavailable' });
  });

  it('refresh(): one reload for many callers that saw the same rejected token; rate-limited per port', async () => {
    let now = 0;
    let calls = 0;
    const cache = createLinkCache({
      load: async () => {
        await new Promise((r) => setTimeout(r, 5));
        return { url: 'http://x', token: `t${++calls}` };
      },
      clock: () => now,
      options: { minRefreshIntervalMs: 1000 },
    });
    await cache.get(target(1));
    const fresh = await Promise.all(Array.from({ length: 10 }, () => cache.refresh(target(1), 't1')));
    expect(new Set(fresh.map((l) => l?.token))).toEqual(new Set(['t2']));
    expect((await cache.refresh(target(1), 't1'))?.token).toBe('t2'); // already refreshed by someone else
    now = 500;
    expect(await cache.refresh(target(1), 't2')).toBeNull(); // refreshed 500 ms ago: not again yet
    now = 1500;
    expect((await cache.refresh(target(1), 't2'))?.token).toBe('t3');
    expect(calls).toBe(3);
  });

  it('rejects a nonsensical configuration at creation', () => {
    expect(() => createLinkCache({ load: async () => ({ url: '', token: '' }), options: { maxEntries: 0 } })).toThrow(TypeError);
  });
});

describe('link cache through forward() against the emulator and the real SDK', () => {
  let rig: Rig;
  let sandboxId: string;
  beforeAll(async () => {
    rig = await startRig();
    sandboxId = (await rig.emulator.createSandbox({})).id;
  });
  afterAll(async () => rig?.close());

  it('N concurrent forwards cost one signed-preview-url request (single-flight), later ones none', async () => {
    const before = rig.emulator.stats.signedPreviewUrlRequests;
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) => rig.upstream.forward(clientRequest(sandboxId, `/api/echo?i=${i}`), { sandboxId, port: 3000 }, principal)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(25).fill(200));
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    expect(rig.emulator.stats.signedPreviewUrlRequests - before).toBe(1);
    const again = await rig.upstream.forward(clientRequest(sandboxId, '/api/echo'), { sandboxId, port: 3000 }, principal);
    await again.arrayBuffer();
    expect(rig.emulator.stats.signedPreviewUrlRequests - before).toBe(1);
    expect(rig.metrics.count(LINK_CACHE_METRIC, { result: 'hit' })).toBeGreaterThan(0);
  });

  it('keeps serving cached links while the Daytona API fails; a miss then answers daytona_unavailable', async () => {
    const upstream = rig.make({ linkCache: { ttlMs: 50 } });
    const warm = await upstream.forward(clientRequest(sandboxId, '/api/echo'), { sandboxId, port: 3000 }, principal);
    await warm.arrayBuffer();
    await new Promise((r) => setTimeout(r, 60)); // the entry is now expired
    for (const fault of [{ status: 503 }, 'refuse'] as const) {
      rig.emulator.setApiFault(fault);
      try {
        const res = await upstream.forward(clientRequest(sandboxId, '/api/echo'), { sandboxId, port: 3000 }, principal);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        await expect(upstream.forward(clientRequest(sandboxId, '/api/echo', {}, 8080), { sandboxId, port: 8080 }, principal)).rejects.toMatchObject({
          code: 'daytona_unavailable',
        });
      } finally {
        rig.emulator.setApiFault(null);
      }
    }
    const healed = await upstream.forward(clientRequest(sandboxId, '/api/echo', {}, 8080), { sandboxId, port: 8080 }, principal);
    expect(healed.status).toBe(200);
    await healed.arrayBuffer();
  });
});
