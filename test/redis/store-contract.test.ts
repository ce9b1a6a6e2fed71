/**
 * One contract for every Store (broker/core/store/store.ts), run against the in-memory store
 * and the Redis store (a real redis-server, test/support/redis.ts). "A" and "B" are two store
 * instances sharing state: for memory the same object, for Redis two separate connections,
 * as two gateway instances would have, so the races below are real cross-connection races.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../broker/core/store/memory.js';
import { createRedisStore } from '../../broker/core/store/redis/store.js';
import type { Store } from '../../broker/core/store/store.js';
import { connectRedis, type NodeRedisPort } from '../../broker/node/redis-port.js';
import { startRedis, type TestRedis } from '../support/redis.js';

interface Pair {
  a: Store;
  b: Store;
  close(): Promise<void>;
}

let redis: TestRedis;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.close();
});

const factories: Record<string, () => Promise<Pair>> = {
  memory: async () => {
    const s = createMemoryStore({ sweepIntervalMs: 0 });
    return { a: s, b: s, close: () => s.close() };
  },
  redis: async () => {
    const prefix = `contract${++n}:`;
    const ports: NodeRedisPort[] = [await connectRedis({ url: redis.url }), await connectRedis({ url: redis.url })];
    const a = await createRedisStore({ port: ports[0]!, prefix });
    const b = await createRedisStore({ port: ports[1]!, prefix });
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        for (const p of ports) await p.close();
      },
    };
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SOON = 1500; // a record's end in the expiry tests (ms from now): room for a loaded machine
const AFTER = 2500; // well past it

async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(10);
  }
}

describe.each(Object.keys(factories))('store contract: %s', (kind) => {
  const withPair = (fn: (p: Pair) => Promise<void>) => async () => {
    const p = await factories[kind]!();
    try {
      await fn(p);
    } finally {
      await p.close();
    }
  };

  it(
    'keeps a session until its end and forgets it after',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      const s = {
        id: 'S1',
        userId: 'u',
        kind: 'session' as const,
        sandboxId: 'x',
        port: 3000,
        origin: 'http://3000-x.preview.localhost',
        cookieMode: 'lax' as const,
        createdAt: now,
        expiresAt: now + SOON,
      };
      await a.putSession(s);
      expect(await b.getSession('S1')).toEqual(s);
      expect(await b.getSession('nope')).toBeNull();
      await sleep(AFTER);
      expect(await b.getSession('S1')).toBeNull();
    }),
  );

  it(
    'a launch code is consumed once, even by two instances at the same moment',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      await a.putLaunchCode({ hash: 'code1', sessionId: 's', path: '/p', expiresAt: now + 60_000 });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consumeLaunchCode('code1', Date.now())));
      const winners = results.filter(Boolean);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ sessionId: 's', path: '/p' });
      // positive control: a second code is still there for its one consumer
      await a.putLaunchCode({ hash: 'code2', sessionId: 's', path: '/', expiresAt: now + 60_000 });
      expect(await b.consumeLaunchCode('code2', Date.now())).not.toBeNull();
    }),
  );

  it(
    'an expired launch code or WebSocket ticket is refused',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      await a.putLaunchCode({ hash: 'old', sessionId: 's', path: '/', expiresAt: now + SOON });
      await a.putWsTicket({ hash: 'oldt', sessionId: 's', userId: 'u', kind: 'session', sandboxId: 'x', port: 1, expiresAt: now + SOON });
      await sleep(AFTER);
      expect(await b.consumeLaunchCode('old', Date.now())).toBeNull();
      expect(await b.consumeWsTicket('oldt', Date.now())).toBeNull();
      // the `now` argument is honoured too: a record past its end at `now` is refused
      await a.putLaunchCode({ hash: 'late', sessionId: 's', path: '/', expiresAt: Date.now() + 60_000 });
      expect(await b.consumeLaunchCode('late', Date.now() + 120_000)).toBeNull();
    }),
  );

  it(
    'a WebSocket ticket is consumed once across instances',
    withPair(async ({ a, b }) => {
      const t = {
        hash: 'tk',
        sessionId: 's',
        userId: 'u',
        kind: 'share' as const,
        sandboxId: 'x',
        port: 8080,
        pathScope: '/docs',
        shareId: 'sh',
        expiresAt: Date.now() + 30_000,
      };
      await a.putWsTicket(t);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).consumeWsTicket('tk', Date.now())));
      expect(results.filter(Boolean)).toEqual([t]);
    }),
  );

  it(
    'concurrent rotations of one refresh credential on two instances: one winner, every loser sees its successor',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      await a.putRefresh({ hash: 'r0', sessionId: 's', generation: 0, expiresAt: now + 60_000 });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).rotateRefresh('r0', { hash: `r1-${i}`, sessionId: 's', generation: 1, expiresAt: now + 60_000 }, `sealed-${i}`, Date.now()),
        ),
      );
      const won = results.map((r, i) => (r.status === 'rotated' ? i : -1)).filter((i) => i >= 0);
      expect(won).toHaveLength(1);
      const w = won[0]!;
      for (const r of results) {
        if (r.status !== 'rotated')
          expect(r).toMatchObject({
            status: 'already_rotated',
            record: { successorHash: `r1-${w}`, successorSealed: `sealed-${w}`, sessionId: 's', generation: 0 },
          });
      }
      expect(await b.getRefresh(`r1-${w}`)).toMatchObject({ sessionId: 's', generation: 1 });
      for (let i = 0; i < 12; i++) if (i !== w) expect(await a.getRefresh(`r1-${i}`)).toBeNull();
      const old = await b.getRefresh('r0');
      expect(old?.rotatedAt).toBeTypeOf('number');
      expect(await a.rotateRefresh('unknown', { hash: 'x', sessionId: 's', generation: 1, expiresAt: now + 1000 }, 's', now)).toEqual({ status: 'unknown' });
    }),
  );

  it(
    'a refresh credential past its end cannot be rotated',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      await a.putRefresh({ hash: 'e0', sessionId: 's', generation: 0, expiresAt: now + SOON });
      await sleep(AFTER);
      expect(await b.getRefresh('e0')).toBeNull();
      expect((await b.rotateRefresh('e0', { hash: 'e1', sessionId: 's', generation: 1, expiresAt: now + 60_000 }, 's', Date.now())).status).toBe('unknown');
    }),
  );

  it(
    'a revocation made on one instance is seen by the other within 1 s, and ends at its end',
    withPair(async ({ a, b }) => {
      expect(await b.isRevoked('sid:R')).toBe(false);
      await a.revoke('sid:R', Date.now() + 60_000);
      const took = await eventually(() => b.isRevoked('sid:R'), 1000);
      expect(took).toBeLessThan(1000);
      expect(await b.isRevoked('sid:other')).toBe(false);
      await a.revoke('sid:short', Date.now() + SOON);
      await eventually(() => b.isRevoked('sid:short'), 1000);
      await sleep(AFTER);
      expect(await b.isRevoked('sid:short')).toBe(false);
      // the later end wins: a shorter second revocation does not shorten it
      await a.revoke('sid:R', Date.now() + 10);
      await sleep(200);
      expect(await b.isRevoked('sid:R')).toBe(true);
    }),
  );

  it(
    'share links: stored, listed per creator, counted, revoked once',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      await a.putShare({ id: 'A', creatorId: 'u', sandboxId: 'x', port: 3000, path: '/docs', createdAt: now, expiresAt: now + 60_000, useCount: 0 });
      await a.putShare({ id: 'B', creatorId: 'u', sandboxId: 'y', port: 3000, createdAt: now, expiresAt: now + 60_000, useCount: 0 });
      await a.putShare({ id: 'C', creatorId: 'v', sandboxId: 'x', port: 3000, createdAt: now, expiresAt: now + 60_000, useCount: 0 });
      await a.putShare({ id: 'D', creatorId: 'u', sandboxId: 'x', port: 3000, createdAt: now, expiresAt: now + SOON, useCount: 0 });
      await Promise.all([a.touchShare('A', now + 1), b.touchShare('A', now + 2), b.touchShare('A', now + 3)]);
      const got = await b.getShare('A');
      expect(got).toMatchObject({ id: 'A', creatorId: 'u', path: '/docs', useCount: 3 });
      expect(got?.lastUsedAt).toBeGreaterThanOrEqual(now + 1);
      expect((await b.listShares('u')).map((s) => s.id).sort()).toEqual(['A', 'B', 'D']);
      expect((await b.listShares('u', 'x')).map((s) => s.id).sort()).toEqual(['A', 'D']);
      await sleep(AFTER);
      expect((await b.listShares('u', 'x')).map((s) => s.id)).toEqual(['A']);
      expect(await b.getShare('D')).toBeNull();
      const r1 = await a.revokeShare('A', now + 10);
      const r2 = await b.revokeShare('A', now + 20);
      expect(r1?.revokedAt).toBe(now + 10);
      expect(r2?.revokedAt).toBe(now + 10);
      expect((await b.getShare('A'))?.revokedAt).toBe(now + 10);
      expect(await b.revokeShare('nope', now)).toBeNull();
      await b.touchShare('nope', now); // never creates a record
      expect(await a.getShare('nope')).toBeNull();
    }),
  );

  it(
    'a slot cap holds under concurrent claims from two instances; release and expiry free slots',
    withPair(async ({ a, b }) => {
      const now = Date.now();
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimSlot('cap:u', `m${i}`, 3, now + 60_000, Date.now())));
      expect(claims.filter(Boolean)).toHaveLength(3);
      const members = (await a.listSlots('cap:u', Date.now())).sort();
      expect(members).toHaveLength(3);
      // a member already in may refresh its slot at the cap
      expect(await b.claimSlot('cap:u', members[0]!, 3, now + 120_000, Date.now())).toBe(true);
      expect(await b.claimSlot('cap:u', 'late', 3, now + 60_000, Date.now())).toBe(false);
      await a.releaseSlot('cap:u', members[1]!);
      expect(await b.claimSlot('cap:u', 'late', 3, now + 60_000, Date.now())).toBe(true);
      // expiry frees a slot without a release
      await a.claimSlot('cap:v', 'short', 1, Date.now() + SOON, Date.now());
      expect(await b.claimSlot('cap:v', 'next', 1, Date.now() + 60_000, Date.now())).toBe(false);
      await sleep(AFTER);
      expect(await b.listSlots('cap:v', Date.now())).toEqual([]);
      expect(await b.claimSlot('cap:v', 'next', 1, Date.now() + 60_000, Date.now())).toBe(true);
      // Infinity = a plain index
      for (let i = 0; i < 5; i++) expect(await a.claimSlot('idx:s', `s${i}`, Infinity, now + 60_000, Date.now())).toBe(true);
      expect((await b.listSlots('idx:s', Date.now())).sort()).toEqual(['s0', 's1', 's2', 's3', 's4']);
    }),
  );
});

describe('readiness', () => {
  it('ping resolves while Redis serves and answers store_unavailable at once while it is down', async () => {
    const own = await startRedis();
    const p = await connectRedis({ url: own.url, commandTimeoutMs: 500 });
    const store = await createRedisStore({ port: p, prefix: 'ping:' });
    try {
      await expect(store.ping!()).resolves.toBeUndefined();
      await own.stop();
      const started = Date.now();
      await expect(store.ping!()).rejects.toMatchObject({ code: 'store_unavailable', headers: { 'retry-after': '2' } });
      await expect(store.getSession('x')).rejects.toMatchObject({ code: 'store_unavailable' });
      expect(Date.now() - started).toBeLessThan(3000);
      await own.start();
      await eventually(
        async () =>
          await store.ping!().then(
            () => true,
            () => false,
          ),
        15_000,
      );
      expect(await store.getSession('x')).toBeNull();
    } finally {
      await store.close();
      await p.close();
      await own.close();
    }
  }, 40_000);
});

describe('a Redis that stops answering', () => {
  it('costs at most the command timeout (coded 503, no hang), and replies stay matched to their commands after', async () => {
    const own = await startRedis();
    const p = await connectRedis({ url: own.url, commandTimeoutMs: 300 });
    const store = await createRedisStore({ port: p, prefix: 'hang:' });
    try {
      const now = Date.now();
      await store.putLaunchCode({ hash: 'c1', sessionId: 's1', path: '/one', expiresAt: now + 60_000 });
      await store.putLaunchCode({ hash: 'c2', sessionId: 's2', path: '/two', expiresAt: now + 60_000 });
      own.pause();
      const started = Date.now();
      const results = await Promise.allSettled([store.getSession('s1'), store.consumeLaunchCode('c1', now), store.ping!()]);
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'store_unavailable' } });
      expect(Date.now() - started).toBeLessThan(3000);
      own.resume();
      // The late replies to the timed-out commands must not be handed to later commands.
      await eventually(
        async () =>
          await store.ping!().then(
            () => true,
            () => false,
          ),
        10_000,
      );
      expect(await store.consumeLaunchCode('c2', Date.now())).toMatchObject({ sessionId: 's2', path: '/two' });
      expect(await store.getSession('s1')).toBeNull();
    } finally {
      own.resume();
      await store.close();
      await p.close();
      await own.close();
    }
  }, 40_000);
});
