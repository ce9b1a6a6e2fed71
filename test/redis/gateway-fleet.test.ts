/**
 * Two gateway instances sharing one real Redis (no balancer here: each request names its
 * instance, so every cross-instance path is exercised on purpose; test/fleet/ does the
 * load-balanced browser version). Also a restart: an instance closed and started again keeps
 * every session, refresh chain, share link and key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../broker/node/redis-port.js';
import {
  codeOf,
  createLaunch,
  eventually,
  exchange,
  fleetConfig,
  refresh,
  sleep,
  startInstance,
  userSession,
  withToken,
  type FleetConfig,
  type Instance,
} from './instances.js';

let redis: TestRedis;
let emulator: Emulator;
let f: FleetConfig;
let a: Instance;
let b: Instance;
let sbx: string;

beforeAll(async () => {
  redis = await startRedis();
  emulator = await startEmulator({ port: 0 });
  sbx = (await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
  // No grace window: reusing a rotated refresh credential is theft at once (credentials.ts).
  f = fleetConfig(emulator, redis.url, { refreshGraceSeconds: 0 });
  a = await startInstance(f);
  b = await startInstance(f);
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await emulator?.close();
  await redis?.close();
});

describe('two gateway instances, one Redis', () => {
  it('a launch code made on A is exchanged on B, once; refreshes alternate; reuse on the other instance is refused', async () => {
    const l = await createLaunch(f, a, 'bob', sbx, 3000);
    expect(l.res.status).toBe(201);
    const x = await exchange(f, b, sbx, 3000, l.code);
    expect(x.res.status).toBe(200);
    // consume-once across instances: the same code on A is refused
    const again = await exchange(f, a, sbx, 3000, l.code);
    expect(again.res.status).toBe(401);
    expect(codeOf(again.res)).toBe('invalid_code');
    // the access token minted on B works on A and B
    expect((await withToken(a, sbx, 3000, x.grant!.accessToken)).status).toBe(200);
    expect((await withToken(b, sbx, 3000, x.grant!.accessToken)).status).toBe(200);
    // refresh chain: A, B, A, B
    let rt = x.grant!.refreshToken;
    const first = rt;
    for (const inst of [a, b, a, b]) {
      const r = await refresh(f, inst, sbx, 3000, rt);
      expect(r.status).toBe(200);
      const g = r.json<{ accessToken: string; refreshToken: string }>();
      expect((await withToken(inst === a ? b : a, sbx, 3000, g.accessToken)).status).toBe(200);
      rt = g.refreshToken;
    }
    // the first credential was rotated on A; presented again on B it is theft (RFC 9700
    // §4.14.2): refused, and the whole session ends on every instance
    const r1 = await refresh(f, b, sbx, 3000, first);
    expect(r1.status).toBe(401);
    expect(codeOf(r1)).toBe('refresh_reused');
    expect(codeOf(await refresh(f, a, sbx, 3000, rt))).toBe('session_revoked');
    await eventually(async () => codeOf(await withToken(a, sbx, 3000, x.grant!.accessToken)) === 'session_revoked', 1000);
  });

  it('a session revoked on A is refused on B within 1 s', async () => {
    const l = await createLaunch(f, a, 'carol', sbx, 3000);
    const x = await exchange(f, a, sbx, 3000, l.code);
    const token = x.grant!.accessToken;
    // positive control: B serves it (and has it in its verify cache)
    expect((await withToken(b, sbx, 3000, token)).status).toBe(200);
    const del = await a.api(`/api/previews/${x.grant!.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${await userSession(f, 'carol')}` } });
    expect(del.status).toBeLessThan(300);
    const took = await eventually(
      async () => {
        const r = await withToken(b, sbx, 3000, token);
        return r.status === 401 && codeOf(r) === 'session_revoked';
      },
      1000,
      5,
    );
    expect(took).toBeLessThan(1000);
    console.log(`revocation on A refused on B after ${took} ms`);
    // and the refresh credential is dead on B too
    const r = await refresh(f, b, sbx, 3000, x.grant!.refreshToken);
    expect(codeOf(r)).toBe('session_revoked');
  });

  it('a share link made on A opens on B; revoked on B it is refused on A', async () => {
    const made = await a.api('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await userSession(f, 'dave')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 3600 }),
    });
    expect(made.status).toBe(201);
    const { id, url } = made.json<{ id: string; url: string }>();
    const path = new URL(url).pathname + new URL(url).search;
    expect((await b.preview(sbx, 3000, path)).status).toBe(200);
    const list = await b.api(`/api/shares?sandboxId=${sbx}`, { headers: { authorization: `Bearer ${await userSession(f, 'dave')}` } });
    expect(list.json<{ shares: { id: string; useCount: number }[] }>().shares.find((s) => s.id === id)?.useCount).toBe(1);
    const del = await b.api(`/api/shares/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await userSession(f, 'dave')}` } });
    expect(del.status).toBeLessThan(300);
    const r = await a.preview(sbx, 3000, path);
    expect(r.status).toBe(401);
    expect(codeOf(r)).toBe('share_revoked');
  });

  it('both instances publish one key set; a rotation on A reaches B, and tokens of the old key still verify', async () => {
    const jwks = async (i: Instance) =>
      (await i.api('/.well-known/jwks.json'))
        .json<{ keys: { kid: string }[] }>()
        .keys.map((k) => k.kid)
        .sort();
    expect(await jwks(a)).toEqual(await jwks(b));
    const l = await createLaunch(f, a, 'erin', sbx, 3000);
    const before = (await exchange(f, a, sbx, 3000, l.code)).grant!;
    const kid = await a.gw.app.rotateKeys();
    await eventually(async () => (await jwks(b)).includes(kid), 1000);
    expect(await jwks(a)).toEqual(await jwks(b));
    // the new key signs after its activation delay, on every instance
    await sleep(1700);
    const r = await refresh(f, b, sbx, 3000, before.refreshToken);
    const after = r.json<{ accessToken: string }>().accessToken;
    const header = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string };
    expect(header(after).kid).toBe(kid);
    expect(header(before.accessToken).kid).not.toBe(kid);
    expect((await withToken(a, sbx, 3000, after)).status).toBe(200);
    expect((await withToken(b, sbx, 3000, before.accessToken)).status).toBe(200);
  });

  it('the hot path makes no Redis call: proxied requests with an access token cost Redis nothing per request', async () => {
    const g = (await exchange(f, a, sbx, 3000, (await createLaunch(f, a, 'hal', sbx, 3000)).code)).grant!;
    const admin = await connectRedis({ url: redis.url });
    try {
      const processed = async () => Number(/total_commands_processed:(\d+)/.exec((await admin.command(['INFO', 'stats'])) as string)![1]);
      const before = await processed();
      const started = Date.now();
      const N = 200;
      for (let i = 0; i < N; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => withToken(i % 40 ? a : b, sbx, 3000, g.accessToken, `/api/echo?i=${i + j}`)));
        for (const r of batch) expect(r.status).toBe(200);
      }
      const seconds = (Date.now() - started) / 1000;
      const spent = (await processed()) - before - 1; // minus our own INFO
      console.log(`${N} proxied requests in ${seconds.toFixed(1)} s: ${spent} Redis commands (background: key expiries, about 2 per instance per second)`);
      // Only the per-second background work of the two instances (plus slack), nothing per request.
      expect(spent).toBeLessThan(10 + Math.ceil(seconds) * 6);
      expect(spent).toBeLessThan(N / 4);
    } finally {
      await admin.close();
    }
  });

  it('a restarted instance keeps sessions, refresh chains, share links and keys', async () => {
    const l = await createLaunch(f, b, 'frank', sbx, 3000);
    const g = (await exchange(f, b, sbx, 3000, l.code)).grant!;
    const made = await b.api('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await userSession(f, 'frank')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 3600 }),
    });
    const share = new URL(made.json<{ url: string }>().url);
    const kidsBefore = (await b.api('/.well-known/jwks.json'))
      .json<{ keys: { kid: string }[] }>()
      .keys.map((k) => k.kid)
      .sort();
    await b.close();
    await a.close();
    // the whole fleet restarted: a fresh process-worth of state, only Redis remembers
    a = await startInstance(f);
    b = await startInstance(f);
    expect(
      (await b.api('/.well-known/jwks.json'))
        .json<{ keys: { kid: string }[] }>()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual(kidsBefore);
    expect((await withToken(a, sbx, 3000, g.accessToken)).status).toBe(200);
    expect((await b.preview(sbx, 3000, share.pathname + share.search)).status).toBe(200);
    const r = await refresh(f, a, sbx, 3000, g.refreshToken);
    expect(r.status).toBe(200);
    expect((await withToken(b, sbx, 3000, r.json<{ accessToken: string }>().accessToken)).status).toBe(200);
  });
});
