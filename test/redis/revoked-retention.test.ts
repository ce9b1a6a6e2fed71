/**
 * The Redis store drops a revoked session's records `retainRevokedMs` after the revocation, like
 * the memory store (issue 11), instead of keeping them until the session's 12-hour end: the
 * session, its whole refresh chain, and a revoked share link with the sessions opened through
 * it. The `sid:` marker lasts one access-token lifetime longer, so tokens minted before the
 * revocation stay refused. Real redis-server (test/support/redis.ts), real key TTLs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../broker/core/store/redis/store.js';
import type { PreviewSessionRecord, ShareRecord } from '../../broker/core/store/store.js';
import { connectRedis, type NodeRedisPort } from '../../broker/node/redis-port.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const HOUR = 3_600_000;
const RETAIN = 3000; // room for a loaded machine between the revocation and the checks
const ACCESS = 2000;
let redis: TestRedis;
let port: NodeRedisPort;
let store: RedisStore;
const P = 'retain:';

beforeAll(async () => {
  redis = await startRedis();
  port = await connectRedis({ url: redis.url });
  store = await createRedisStore({ port, prefix: P, retainRevokedMs: RETAIN, accessTtlMs: ACCESS });
}, 30_000);
afterAll(async () => {
  await store?.close();
  await port?.close();
  await redis?.close();
});

const pttl = async (key: string) => (await port.command(['PTTL', P + key])) as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;

async function session(extra: Partial<PreviewSessionRecord> = {}): Promise<{ id: string; hashes: string[] }> {
  const now = Date.now();
  const id = `s${++n}`;
  await store.putSession({
    id,
    userId: 'bob',
    kind: 'session',
    sandboxId: 'sbx',
    port: 3000,
    origin: 'http://o',
    cookieMode: 'lax',
    createdAt: now,
    expiresAt: now + 12 * HOUR,
    ...extra,
  });
  const first = `h${n}a`;
  const second = `h${n}b`;
  await store.putRefresh({ hash: first, sessionId: id, generation: 0, expiresAt: now + 12 * HOUR });
  expect((await store.rotateRefresh(first, { hash: second, sessionId: id, generation: 1, expiresAt: now + 12 * HOUR }, 'sealed', now)).status).toBe('rotated');
  return { id, hashes: [first, second] };
}

describe('the Redis store keeps a revoked session only briefly', () => {
  it("a revoked session's records and whole refresh chain leave after retainRevokedMs; an unrevoked one's stay", async () => {
    const revoked = await session();
    const kept = await session();
    for (const k of [`s:${revoked.id}`, ...revoked.hashes.map((h) => `r:${h}`)]) expect(await pttl(k), k).toBeGreaterThan(11 * HOUR);
    await store.revoke(`sid:${revoked.id}`, Date.now() + 12 * HOUR);
    for (const k of [`s:${revoked.id}`, `sr:${revoked.id}`, ...revoked.hashes.map((h) => `r:${h}`)]) {
      const t = await pttl(k);
      expect(t, k).toBeGreaterThan(0);
      expect(t, k).toBeLessThanOrEqual(RETAIN);
    }
    // The marker: one access-token lifetime past the records, not the session's 12 hours.
    const score = Number(await port.command(['ZSCORE', `${P}rev`, `sid:${revoked.id}`]));
    expect(score - Date.now()).toBeLessThanOrEqual(RETAIN + ACCESS + 1000);
    expect(score - Date.now()).toBeGreaterThan(RETAIN);
    // Positive control: the other session is untouched.
    for (const k of [`s:${kept.id}`, ...kept.hashes.map((h) => `r:${h}`)]) expect(await pttl(k), k).toBeGreaterThan(11 * HOUR);

    // Within the retention the records still answer (the embed reads `revoked`) and the marker holds.
    expect(await store.getSession(revoked.id)).not.toBeNull();
    expect(await store.isRevoked(`sid:${revoked.id}`)).toBe(true);
    await sleep(RETAIN + 1000);
    expect(await store.getSession(revoked.id)).toBeNull();
    for (const h of revoked.hashes) expect(await store.getRefresh(h)).toBeNull();
    expect(await store.isRevoked(`sid:${revoked.id}`)).toBe(true); // tokens minted before it stay refused
    expect(await store.getSession(kept.id)).not.toBeNull();
    expect(await store.getRefresh(kept.hashes[1]!)).not.toBeNull();
  }, 20_000);

  it('a marker never outlives the session it names (end sooner than the access-token bound)', async () => {
    const s = await session();
    const end = Date.now() + 1500;
    await store.revoke(`sid:${s.id}`, end);
    expect(Number(await port.command(['ZSCORE', `${P}rev`, `sid:${s.id}`]))).toBe(end);
  });

  it('a revoked share link leaves with the sessions opened through it; another link and its sessions stay', async () => {
    const now = Date.now();
    const share = (id: string): ShareRecord => ({
      id,
      creatorId: 'bob',
      sandboxId: 'sbx',
      port: 3000,
      createdAt: now,
      expiresAt: now + 24 * HOUR,
      useCount: 0,
    });
    await store.putShare(share('shA'));
    await store.putShare(share('shB'));
    const a = await session({ userId: 'share:shA', kind: 'share', shareId: 'shA' });
    const b = await session({ userId: 'share:shB', kind: 'share', shareId: 'shB' });
    await store.revokeShare('shA', now);
    await store.revoke('shr:shA', now + 24 * HOUR);
    for (const k of ['sh:shA', `s:${a.id}`, ...a.hashes.map((h) => `r:${h}`)]) {
      const t = await pttl(k);
      expect(t, k).toBeGreaterThan(0);
      expect(t, k).toBeLessThanOrEqual(RETAIN);
    }
    for (const k of ['sh:shB', `s:${b.id}`, ...b.hashes.map((h) => `r:${h}`)]) expect(await pttl(k), k).toBeGreaterThan(11 * HOUR);
    // The link itself keeps answering share_revoked until its end.
    expect(Number(await port.command(['ZSCORE', `${P}rev`, 'shr:shA']))).toBe(now + 24 * HOUR);
  });
});
