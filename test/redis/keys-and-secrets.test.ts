/**
 * Fleet keys and what Redis holds at rest: configuration refusals (no sealing secret, bad URL),
 * a Redis dump that opens nothing, a key set sealed with another secret refused at start, a key
 * planted in Redis never used, concurrent rotations giving one key, a cut-off instance catching
 * up on revocations, and the bounded revocation view falling back to Redis.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { resolveConfig } from '../../broker/core/config.js';
import { configFromEnv } from '../../broker/node/config-env.js';
import { connectRedis, type NodeRedisPort } from '../../broker/node/redis-port.js';
import { createFleetKeyRing } from '../../broker/core/tokens/fleet-keys.js';
import { kidOf, sealingKey, sealPrivateJwk, openPrivateJwk } from '../../broker/core/tokens/key-seal.js';
import { createRedisStore } from '../../broker/core/store/redis/store.js';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { createLaunch, eventually, exchange, fleetConfig, sleep, startInstance } from './instances.js';

let redis: TestRedis;
const ports: NodeRedisPort[] = [];
const port = async () => {
  const p = await connectRedis({ url: redis.url });
  ports.push(p);
  return p;
};
const secret = () => randomBytes(32).toString('base64url');
const userSecret = 'u'.repeat(32);

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  for (const p of ports) await p.close();
  await redis?.close();
});

describe('configuration of the shared store', () => {
  it('Redis without GATE_SIGNING_KEYS and without GATE_KEYS_SECRET is refused, naming the variable', () => {
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'redis://127.0.0.1:6379' })).toThrow(/GATE_KEYS_SECRET/);
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'redis://127.0.0.1:6379', keysSecret: 'short' })).toThrow(/GATE_KEYS_SECRET.*32/);
    // positive controls: with a secret, or with configured keys
    expect(resolveConfig({ userJwtSecret: userSecret, redisUrl: 'redis://127.0.0.1:6379', keysSecret: secret() }).redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'preview-gate:',
      commandTimeoutMs: 1000,
    });
    expect(resolveConfig({ userJwtSecret: userSecret, redisUrl: 'rediss://u:p@h:6380/2', signingKeys: { keys: [{ kty: 'EC' }] } }).redis?.url).toBe(
      'rediss://u:p@h:6380/2',
    );
  });
  it('a Redis URL of another scheme, a bad prefix or timeout is refused, naming the variable', () => {
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'http://h:6379', keysSecret: secret() })).toThrow(/GATE_REDIS_URL/);
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'not a url', keysSecret: secret() })).toThrow(/GATE_REDIS_URL/);
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'redis://h', keysSecret: secret(), redisPrefix: 'a b' })).toThrow(/GATE_REDIS_PREFIX/);
    expect(() => resolveConfig({ userJwtSecret: userSecret, redisUrl: 'redis://h', keysSecret: secret(), redisCommandTimeoutMs: 5 })).toThrow(
      /GATE_REDIS_COMMAND_TIMEOUT_MS/,
    );
  });
  it('reads GATE_REDIS_URL, GATE_REDIS_PREFIX, GATE_REDIS_COMMAND_TIMEOUT_MS and GATE_KEYS_SECRET from the environment', () => {
    const s = secret();
    const { config } = configFromEnv({
      GATE_USER_JWT_SECRET: userSecret,
      GATE_REDIS_URL: ' redis://r:6379 ',
      GATE_REDIS_PREFIX: 'x:',
      GATE_REDIS_COMMAND_TIMEOUT_MS: '250',
      GATE_KEYS_SECRET: s,
    });
    expect(resolveConfig(config)).toMatchObject({ redis: { url: 'redis://r:6379', prefix: 'x:', commandTimeoutMs: 250 }, keysSecret: s });
    expect(resolveConfig(configFromEnv({ GATE_USER_JWT_SECRET: userSecret }).config).redis).toBeNull();
  });
  it('an unreachable Redis at start is refused with a message naming GATE_REDIS_URL and no credentials', async () => {
    const started = Date.now();
    const err = await connectRedis({ url: 'redis://user:hunter2-password@127.0.0.1:1', connectTimeoutMs: 800 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/GATE_REDIS_URL/);
    expect((err as Error).message).not.toMatch(/hunter2/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('signing keys and secrets at rest in Redis', () => {
  it('a dump of Redis holds no launch code, refresh credential or private key in the clear', async () => {
    const emulator: Emulator = await startEmulator({ port: 0 });
    const f = fleetConfig(emulator, redis.url);
    const a = await startInstance(f);
    try {
      const sbx = (await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
      const pending = await createLaunch(f, a, 'gus', sbx, 3000);
      const used = await createLaunch(f, a, 'gus', sbx, 3000);
      const g = (await exchange(f, a, sbx, 3000, used.code)).grant!;
      const p = await port();
      const keys = (await p.command(['KEYS', `${f.prefix}*`])) as string[];
      let dump = keys.join('\n');
      for (const k of keys) {
        const type = (await p.command(['TYPE', k])) as string;
        const v =
          type === 'string'
            ? await p.command(['GET', k])
            : type === 'hash'
              ? await p.command(['HGETALL', k])
              : type === 'set'
                ? await p.command(['SMEMBERS', k]) // the per-session refresh-hash index (store.ts `sr:`)
                : await p.command(['ZRANGE', k, '0', '-1', 'WITHSCORES']);
        dump += `\n${JSON.stringify(v)}`;
      }
      expect(keys.length).toBeGreaterThan(3); // positive control: there is something to look at
      for (const secretValue of [pending.code, used.code, g.refreshToken]) expect(dump).not.toContain(secretValue);
      const set = JSON.parse((await p.command(['GET', `${f.prefix}keys`])) as string) as { keys: Record<string, unknown>[] };
      expect(set.keys.length).toBeGreaterThan(0);
      for (const k of set.keys) {
        expect(Object.keys(k).sort()).toEqual(['activateAt', 'createdAt', 'kid', 'sealed'].filter((x) => x in k).sort());
        expect(k).not.toHaveProperty('d');
        expect(String(k.sealed)).not.toContain('"d"');
        // opened with the fleet's secret only
        expect(await openPrivateJwk(await sealingKey(f.keysSecret, f.prefix), String(k.kid), String(k.sealed))).not.toBeNull();
        expect(await openPrivateJwk(await sealingKey(secret(), f.prefix), String(k.kid), String(k.sealed))).toBeNull();
      }
    } finally {
      await a.close();
      await emulator.close();
    }
  });

  it('an instance with another GATE_KEYS_SECRET refuses to start, naming it', async () => {
    const prefix = `k${randomBytes(3).toString('hex')}:`;
    const ok = await createFleetKeyRing({ port: await port(), prefix, secret: secret(), clock: Date.now });
    await ok.close();
    const err = await createFleetKeyRing({ port: await port(), prefix, secret: secret(), clock: Date.now }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/GATE_KEYS_SECRET/);
  });

  it('a key planted in Redis by someone without the secret is never used or published', async () => {
    const prefix = `k${randomBytes(3).toString('hex')}:`;
    const s = secret();
    const ring = await createFleetKeyRing({ port: await port(), prefix, secret: s, clock: Date.now });
    try {
      const kid = ring.signer().kid;
      // The attacker can write Redis but has no GATE_KEYS_SECRET: seals with their own.
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      const evilKid = await kidOf(jwk);
      const p = await port();
      const doc = JSON.parse((await p.command(['GET', `${prefix}keys`])) as string) as { keys: unknown[] };
      const planted = { kid: evilKid, sealed: await sealPrivateJwk(await sealingKey(secret(), prefix), evilKid, jwk), createdAt: Date.now(), activateAt: 0 };
      // and the real key's sealed blob moved under another kid does not open (kid = sealed data)
      const real = doc.keys[0] as { sealed: string };
      const moved = { kid: 'moved-kid-000000', sealed: real.sealed, createdAt: Date.now(), activateAt: 0 };
      await p.command(['SET', `${prefix}keys`, JSON.stringify({ keys: [planted, moved, ...doc.keys] })]);
      await p.command(['PUBLISH', `${prefix}keys`, 'changed']);
      await ring.sync();
      await sleep(100);
      expect(ring.signer().kid).toBe(kid);
      expect(ring.jwks().keys.map((k) => k.kid)).not.toContain(evilKid);
      expect(ring.verifier(evilKid)).toBeNull();
      expect(ring.verifier('moved-kid-000000')).toBeNull();
      expect(ring.verifier(kid)).not.toBeNull(); // positive control
    } finally {
      await ring.close();
    }
  });

  it('concurrent rotations on two instances make one new key, known to both', async () => {
    const prefix = `k${randomBytes(3).toString('hex')}:`;
    const s = secret();
    const a = await createFleetKeyRing({ port: await port(), prefix, secret: s, clock: Date.now, activationDelayMs: 200 });
    const b = await createFleetKeyRing({ port: await port(), prefix, secret: s, clock: Date.now, activationDelayMs: 200 });
    try {
      const first = a.signer().kid;
      expect(b.signer().kid).toBe(first);
      const [ka, kb] = await Promise.all([a.rotate(), b.rotate()]);
      expect(ka).toBe(kb);
      await sleep(400);
      expect(a.signer().kid).toBe(ka);
      expect(b.signer().kid).toBe(ka);
      expect(
        a
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
      ).toEqual([first, ka].sort());
      expect(
        b
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
      ).toEqual([first, ka].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a retired key verifies until the last token it signed expires, then leaves the set', async () => {
    const prefix = `k${randomBytes(3).toString('hex')}:`;
    let now = Date.now();
    const clock = () => now;
    const s = secret();
    const a = await createFleetKeyRing({ port: await port(), prefix, secret: s, clock, activationDelayMs: 0, retireGraceMs: 1000, flushIntervalMs: 50 });
    const b = await createFleetKeyRing({ port: await port(), prefix, secret: s, clock, activationDelayMs: 0, retireGraceMs: 1000, flushIntervalMs: 50 });
    try {
      const old = a.signer().kid;
      a.noteSigned(old, now + 60_000); // e.g. a share link valid one more minute, signed on A
      const fresh = await b.rotate(); // B rotates at once: it learns A's maximum through Redis
      await b.sync();
      await sleep(400); // a few write/read rounds (50 ms here, 1 s by default)
      expect(b.signer().kid).toBe(fresh);
      now += 30_000;
      expect(b.verifier(old)).not.toBeNull();
      now += 31_000;
      expect(b.verifier(old)).toBeNull();
      expect(b.jwks().keys.map((k) => k.kid)).toEqual([fresh]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('revocations', () => {
  it('an instance cut off from Redis catches up on reconnect with what was revoked meanwhile', async () => {
    const prefix = `r${randomBytes(3).toString('hex')}:`;
    const admin = await port();
    // B connects as its own ACL user, so it can be kept out while A revokes.
    const user = `b${randomBytes(3).toString('hex')}`;
    await admin.command(['ACL', 'SETUSER', user, 'on', '>pw-b', '~*', '&*', '+@all']);
    const a = await createRedisStore({ port: await port(), prefix });
    const pb = await connectRedis({ url: `redis://${user}:pw-b@127.0.0.1:${redis.port}` });
    ports.push(pb);
    const b = await createRedisStore({ port: pb, prefix });
    try {
      await a.revoke('sid:before', Date.now() + 60_000);
      await eventually(() => b.isRevoked('sid:before'), 1000); // positive control: pub/sub
      await admin.command(['ACL', 'SETUSER', user, 'off']);
      await admin.command(['CLIENT', 'KILL', 'USER', user]);
      await a.revoke('sid:while-away', Date.now() + 60_000);
      await sleep(300);
      // B missed the message (nobody could deliver it) and still knows what it knew
      expect(await b.isRevoked('sid:while-away')).toBe(false);
      expect(await b.isRevoked('sid:before')).toBe(true);
      await admin.command(['ACL', 'SETUSER', user, 'on']);
      const took = await eventually(() => b.isRevoked('sid:while-away'), 10_000);
      console.log(`revocation issued while cut off: applied ${took} ms after Redis let the instance back in`);
      expect(await b.isRevoked('sid:never')).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('past its bound the local view asks Redis, so no revocation is ever forgotten', async () => {
    const prefix = `r${randomBytes(3).toString('hex')}:`;
    const a = await createRedisStore({ port: await port(), prefix });
    const b = await createRedisStore({ port: await port(), prefix, maxLocalRevocations: 3 });
    try {
      for (let i = 0; i < 8; i++) await a.revoke(`sid:${i}`, Date.now() + 60_000);
      await sleep(200);
      expect(b.revocations.size).toBeLessThanOrEqual(3);
      for (let i = 0; i < 8; i++) expect(await b.isRevoked(`sid:${i}`)).toBe(true);
      expect(await b.isRevoked('sid:not-revoked')).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
