/**
 * Rate limits and caps shared by a fleet: two gateway instances on one real redis-server
 * (GATE_REDIS_URL) count one user's launches in the same window and hold one cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import WebSocket from 'ws';
import { cookieHeaderOf, rawRequest } from '../support/stack.js';
import { redisAvailable, startRedis, type TestRedis } from '../support/redis.js';

const secret = randomBytes(32).toString('base64url');
let redis: TestRedis;
let emulator: Emulator;
let a: RunningGateway;
let b: RunningGateway;
let sandboxId: string;

describe.skipIf(!redisAvailable())('limits across instances (real Redis)', () => {
  beforeAll(async () => {
    redis = await startRedis();
    emulator = await startEmulator({ port: 0 });
    ({ id: sandboxId } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } }));
    const config = {
      userJwtSecret: secret,
      redisUrl: redis.url,
      keysSecret: randomBytes(32).toString('base64url'),
      // One public port for both instances (as behind one load balancer): a preview origin, and
      // so its tokens, are the same whichever instance a request reaches.
      publicPort: 8443,
      limits: { rateLimits: { launch: { user: 3, address: 1000 }, upgrade: { user: 4, address: 1000 } }, maxSharesPerUser: 2 },
    };
    const common = { daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' }, port: 0, logger: { info() {}, warn() {}, error() {} } };
    a = await startGateway({ config, ...common });
    b = await startGateway({ config, ...common });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await emulator?.close();
    await redis?.close();
  });

  const post = async (gw: RunningGateway, path: string, user: string, body: unknown) => {
    const session = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    return rawRequest(gw.port, `127.0.0.1:${gw.port}`, path, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  };

  it('a user spending the launch limit across two instances is refused on either; another user is not', async () => {
    const t = { sandboxId, port: 3000 };
    expect((await post(a, '/api/previews', 'fleet-user', t)).status).toBe(201);
    expect((await post(b, '/api/previews', 'fleet-user', t)).status).toBe(201);
    expect((await post(a, '/api/previews', 'fleet-user', t)).status).toBe(201);
    const refused = await post(b, '/api/previews', 'fleet-user', t);
    expect(refused.status).toBe(429);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await post(b, '/api/previews', 'fleet-other', t)).status).toBe(201);
  });

  it('the share-link cap holds across instances', async () => {
    const body = { sandboxId, port: 3000, ttlSeconds: 600 };
    expect((await post(a, '/api/shares', 'fleet-sharer', body)).status).toBe(201);
    expect((await post(b, '/api/shares', 'fleet-sharer', body)).status).toBe(201);
    const over = await post(a, '/api/shares', 'fleet-sharer', body);
    expect(over.status).toBe(409);
    expect(over.json<{ error: { code: string } }>().error.code).toBe('too_many_shares');
  });

  it('a user spending the WebSocket upgrade limit across two instances is refused 429 on either', async () => {
    const launched = await post(a, '/api/previews', 'fleet-ws', { sandboxId, port: 3000 });
    expect(launched.status).toBe(201);
    const code = new URLSearchParams(new URL(launched.json<{ url: string }>().url).hash.slice(1)).get('code');
    const host = `3000-${sandboxId}.preview.localhost:8443`;
    const ex = await rawRequest(a.port, host, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `http://${host}` },
      body: JSON.stringify({ code }),
    });
    expect(ex.status).toBe(200);
    const cookie = cookieHeaderOf(ex.setCookies);
    const upgrade = (gw: RunningGateway) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`, { headers: { host, cookie } });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        ws.on('error', reject);
      });
    expect([await upgrade(a), await upgrade(b), await upgrade(a), await upgrade(b)]).toEqual([101, 101, 101, 101]);
    expect(await upgrade(a)).toBe(429);
    expect(await upgrade(b)).toBe(429);
  }, 60_000);
});
