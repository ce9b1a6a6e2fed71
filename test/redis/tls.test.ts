/**
 * `rediss://` with credentials in the URL, as a managed Redis is reached: a gateway process
 * trusts the server's CA (NODE_EXTRA_CA_CERTS, Node's own setting) and works; one that does not
 * trust it, or has the wrong password, is refused at start with a message naming
 * GATE_REDIS_URL and never the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { createLaunch, exchange, fleetConfig, spawnInstance, withToken } from './instances.js';

const PASSWORD = 'tls-test-password-4f9c';
let redis: TestRedis;
let emulator: Emulator;
let sbx: string;

beforeAll(async () => {
  redis = await startRedis({ tls: true, password: PASSWORD });
  emulator = await startEmulator({ port: 0 });
  sbx = (await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
}, 60_000);
afterAll(async () => {
  await emulator?.close();
  await redis?.close();
});

describe('Redis over TLS with a password in GATE_REDIS_URL', () => {
  it('a gateway that trusts the CA launches and serves previews through rediss://', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const f = fleetConfig(emulator, redis.url);
    const gw = await spawnInstance(f, { NODE_EXTRA_CA_CERTS: redis.caFile! });
    try {
      const l = await createLaunch(f, gw, 'tia', sbx, 3000);
      expect(l.res.status).toBe(201);
      const g = (await exchange(f, gw, sbx, 3000, l.code)).grant!;
      expect((await withToken(gw, sbx, 3000, g.accessToken)).status).toBe(200);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it('an untrusted certificate or a wrong password is refused at start, naming GATE_REDIS_URL, never the password', async () => {
    const untrusted = fleetConfig(emulator, redis.url);
    const e1 = await spawnInstance(untrusted, { NODE_EXTRA_CA_CERTS: '' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(e1?.message).toMatch(/GATE_REDIS_URL.*certificate/i);
    expect(e1?.message).not.toContain(PASSWORD);
    const wrong = fleetConfig(emulator, redis.url.replace(encodeURIComponent(PASSWORD), 'not-the-password-123'));
    const e2 = await spawnInstance(wrong, { NODE_EXTRA_CA_CERTS: redis.caFile! }).then(
      () => null,
      (e: Error) => e,
    );
    expect(e2?.message).toMatch(/GATE_REDIS_URL.*WRONGPASS/);
    expect(e2?.message).not.toContain('not-the-password-123');
  }, 90_000);
});
