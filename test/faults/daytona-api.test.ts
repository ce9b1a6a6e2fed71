/**
 * The Daytona API down, slow beyond the gateway's timeout, or answering 500 (a fault front from
 * demo/emulator/faults.ts between the real SDK and the emulator): previews that already hold a
 * cached Daytona link keep working, new launches get a coded 503 `daytona_unavailable`, and
 * everything recovers by itself once the API is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startFaultyApi, type FaultyApi, type ApiFaultMode } from '../../demo/emulator/faults.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import { createDaytonaPort } from '../../broker/node/daytona-sdk.js';
import { rawRequest, cookieHeaderOf } from '../support/stack.js';
import { GATE_PATHS } from '../../protocol/index.js';

let emulator: Emulator;
let front: FaultyApi;
let gateway: RunningGateway;
let daytona: ReturnType<typeof createDaytonaPort>;
let sandboxId: string;
const secret = randomBytes(32).toString('base64url');

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  front = await startFaultyApi(emulator.apiUrl);
  // The gateway's Daytona timeout, short so "slow beyond it" is quick to show.
  daytona = createDaytonaPort({ apiUrl: front.apiUrl, apiKey: emulator.apiKey, target: 'us', requestTimeoutMs: 1500 });
  gateway = await startGateway({
    config: { userJwtSecret: secret, limits: { rateLimits: false } },
    daytona,
    port: 0,
    logger: { info() {}, warn() {}, error() {} },
  });
  ({ id: sandboxId } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } }));
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await daytona?.close();
  await front?.close();
  await emulator?.close();
});

const host = () => `3000-${sandboxId}.preview.localhost:${gateway.port}`;
const session = (user: string) =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));

async function launch(user: string) {
  return rawRequest(gateway.port, `127.0.0.1:${gateway.port}`, '/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${await session(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId, port: 3000 }),
  });
}

async function openPreview(user: string): Promise<string> {
  const created = await launch(user);
  expect(created.status).toBe(201);
  const code = new URLSearchParams(new URL(created.json<{ url: string }>().url).hash.slice(1)).get('code')!;
  const ex = await rawRequest(gateway.port, host(), GATE_PATHS.session, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  expect(ex.status).toBe(200);
  return cookieHeaderOf(ex.setCookies);
}

describe('Daytona API faults', () => {
  it.each<ApiFaultMode>(['down', 'slow', 'error500'])(
    'API %s: an open preview keeps working, a new launch gets 503 daytona_unavailable, and it recovers by itself',
    async (mode) => {
      const cookie = await openPreview(`user-${mode}`);
      expect((await rawRequest(gateway.port, host(), '/api/echo', { headers: { cookie } })).status).toBe(200); // link cached now

      front.set(mode);
      try {
        const started = Date.now();
        const refused = await launch(`user-${mode}-2`);
        expect(refused.status).toBe(503);
        expect(refused.json<{ error: { code: string } }>().error.code).toBe('daytona_unavailable');
        // Bounded by the gateway's own timeout (1.5 s per call), not by the fault.
        expect(Date.now() - started).toBeLessThan(15_000);
        for (let i = 0; i < 5; i++) expect((await rawRequest(gateway.port, host(), `/api/echo?i=${i}`, { headers: { cookie } })).status).toBe(200);
      } finally {
        front.set('ok');
      }
      // Recovery without a restart: the next launch works.
      expect((await launch(`user-${mode}-3`)).status).toBe(201);
    },
    60_000,
  );
});
