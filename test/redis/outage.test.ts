/**
 * Redis stopped under load and started again (empty: no persistence), with one in-process
 * instance and one real gateway process (`broker/node/main.ts`, configured only from the
 * environment): open previews keep working, everything that needs the store answers a coded
 * 503 `store_unavailable` with Retry-After at once (no hang), nothing crashes, and both
 * instances recover by themselves, keys and revocations included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import {
  codeOf,
  createLaunch,
  eventually,
  exchange,
  fleetConfig,
  refresh,
  spawnInstance,
  startInstance,
  userSession,
  withToken,
  type FleetConfig,
  type Instance,
  type SpawnedInstance,
} from './instances.js';

let redis: TestRedis;
let emulator: Emulator;
let f: FleetConfig;
let a: Instance;
let p: SpawnedInstance;
let sbx: string;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ port: 0 });
  sbx = (await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
  f = fleetConfig(emulator, redis.url);
  a = await startInstance(f);
  p = await spawnInstance(f);
}, 90_000);

afterAll(async () => {
  await p?.close();
  await a?.close();
  await emulator?.close();
  await redis?.close();
});

const jwksKids = async (i: Instance) =>
  (await i.api('/.well-known/jwks.json'))
    .json<{ keys: { kid: string }[] }>()
    .keys.map((k) => k.kid)
    .sort();

describe('Redis unavailable, then back (empty)', () => {
  it('open previews keep working, store operations answer 503 store_unavailable fast, and everything recovers', async () => {
    // Before: a live preview on each instance, a revoked one, a pending launch code, a share.
    const live = (await exchange(f, a, sbx, 3000, (await createLaunch(f, a, 'ann', sbx, 3000)).code)).grant!;
    const live2 = (await exchange(f, p, sbx, 3000, (await createLaunch(f, p, 'ann', sbx, 3000)).code)).grant!;
    const gone = (await exchange(f, a, sbx, 3000, (await createLaunch(f, a, 'ann', sbx, 3000)).code)).grant!;
    await a.api(`/api/previews/${gone.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${await userSession(f, 'ann')}` } });
    await eventually(async () => codeOf(await withToken(p, sbx, 3000, gone.accessToken)) === 'session_revoked', 1000);
    const pending = await createLaunch(f, a, 'ann', sbx, 3000);
    const kids = await jwksKids(a);
    expect(await jwksKids(p)).toEqual(kids);

    // Continuous load across the whole stop/start cycle: every answer must be a success or the
    // coded 503, never a 500, a reset connection or a hang.
    let loading = true;
    const seen: Record<string, number> = {};
    const loadLoop = async (inst: Instance, grant: typeof live) => {
      while (loading) {
        const answers = await Promise.all([
          withToken(inst, sbx, 3000, grant.accessToken).then(
            (r) => `open ${r.status}`,
            (e: Error) => `open ${e.message}`,
          ),
          createLaunch(f, inst, 'ann', sbx, 3000).then(
            ({ res: r }) => `launch ${r.status} ${r.status === 201 ? '' : codeOf(r)}`.trim(),
            (e: Error) => `launch ${e.message}`,
          ),
        ]);
        for (const k of answers) seen[k] = (seen[k] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const loaders = [loadLoop(a, live), loadLoop(p, live2)];
    await new Promise((r) => setTimeout(r, 300));

    await redis.stop();

    // Under load: proxied requests with open previews (both instances) and store operations.
    const started = Date.now();
    const results = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) =>
        withToken(i % 2 ? a : p, sbx, 3000, i % 2 ? live.accessToken : live2.accessToken).then((r) => ({ kind: 'open', r, ms: Date.now() - started })),
      ),
      ...Array.from({ length: 6 }, (_, i) =>
        createLaunch(f, i % 2 ? a : p, 'ann', sbx, 3000).then(({ res: r }) => ({ kind: 'launch', r, ms: Date.now() - started })),
      ),
      exchange(f, p, sbx, 3000, pending.code).then(({ res: r }) => ({ kind: 'exchange', r, ms: Date.now() - started })),
      refresh(f, a, sbx, 3000, live.refreshToken).then((r) => ({ kind: 'refresh', r, ms: Date.now() - started })),
      refresh(f, p, sbx, 3000, live2.refreshToken).then((r) => ({ kind: 'refresh', r, ms: Date.now() - started })),
      userSession(f, 'ann')
        .then((s) =>
          a.api('/api/shares', {
            method: 'POST',
            headers: { authorization: `Bearer ${s}`, 'content-type': 'application/json' },
            body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 600 }),
          }),
        )
        .then((r) => ({ kind: 'share', r, ms: Date.now() - started })),
      withToken(p, sbx, 3000, gone.accessToken).then((r) => ({ kind: 'revoked', r, ms: Date.now() - started })),
    ]);
    for (const { kind, r, ms } of results) {
      if (kind === 'open') expect(r.status, `open preview while Redis is down: ${r.text}`).toBe(200);
      else if (kind === 'revoked')
        expect(codeOf(r)).toBe('session_revoked'); // revocations as last known
      else {
        expect(r.status, `${kind} while Redis is down`).toBe(503);
        expect(codeOf(r)).toBe('store_unavailable');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // fail fast: no command waits for Redis (generous bound for a loaded machine)
      expect(ms).toBeLessThan(8000);
    }
    console.log(`while Redis was down: slowest answer ${Math.max(...results.map((x) => x.ms))} ms over ${results.length} concurrent requests`);
    expect(p.exitCode()).toBeUndefined();

    await redis.start(); // empty: no persistence

    // Recovery by itself: launches work again on both instances, the keys are the same ones
    // (written back from memory), the revoked session stays revoked.
    for (const inst of [a, p]) {
      await eventually(async () => (await createLaunch(f, inst, 'ann', sbx, 3000)).res.status === 201, 15_000, 200);
    }
    loading = false;
    await Promise.all(loaders);
    console.log('answers under load across the outage:', JSON.stringify(seen));
    expect(Object.keys(seen).sort()).toEqual(['launch 201', 'launch 503 store_unavailable', 'open 200']);
    expect(await jwksKids(a)).toEqual(kids);
    expect(await jwksKids(p)).toEqual(kids);
    const fresh = (await exchange(f, p, sbx, 3000, (await createLaunch(f, a, 'ann', sbx, 3000)).code)).grant!;
    expect((await withToken(a, sbx, 3000, fresh.accessToken)).status).toBe(200);
    expect((await withToken(p, sbx, 3000, live.accessToken)).status).toBe(200);
    expect(codeOf(await withToken(a, sbx, 3000, gone.accessToken))).toBe('session_revoked');
    // the revocation went back into Redis: an instance started now refuses it too
    const c = await startInstance(f);
    try {
      expect(codeOf(await withToken(c, sbx, 3000, gone.accessToken))).toBe('session_revoked');
      expect((await withToken(c, sbx, 3000, live.accessToken)).status).toBe(200);
    } finally {
      await c.close();
    }
    // what an empty Redis cannot give back: the refresh chains it held
    expect(codeOf(await refresh(f, a, sbx, 3000, live.refreshToken))).toBe('invalid_session');
    expect(p.exitCode()).toBeUndefined();
  }, 90_000);
});

describe('Redis restarted with its data (append-only file)', () => {
  it('refresh chains, share links and revocations survive a Redis restart; instances reconnect alone', async () => {
    const own = await startRedis({ persist: true });
    const fp = fleetConfig(emulator, own.url);
    const inst = await startInstance(fp);
    try {
      const g = (await exchange(fp, inst, sbx, 3000, (await createLaunch(fp, inst, 'pat', sbx, 3000)).code)).grant!;
      const gone = (await exchange(fp, inst, sbx, 3000, (await createLaunch(fp, inst, 'pat', sbx, 3000)).code)).grant!;
      await inst.api(`/api/previews/${gone.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${await userSession(fp, 'pat')}` } });
      const made = await inst.api('/api/shares', {
        method: 'POST',
        headers: { authorization: `Bearer ${await userSession(fp, 'pat')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 3600 }),
      });
      const share = new URL(made.json<{ url: string }>().url);
      await own.restart();
      await eventually(async () => (await refresh(fp, inst, sbx, 3000, g.refreshToken)).status === 200, 15_000, 200);
      expect((await inst.preview(sbx, 3000, share.pathname + share.search)).status).toBe(200);
      // a fresh instance reads the persisted revocation from Redis itself
      const other = await startInstance(fp);
      try {
        expect(codeOf(await withToken(other, sbx, 3000, gone.accessToken))).toBe('session_revoked');
        expect((await withToken(other, sbx, 3000, g.accessToken)).status).toBe(200);
      } finally {
        await other.close();
      }
    } finally {
      await inst.close();
      await own.close();
    }
  }, 90_000);
});
