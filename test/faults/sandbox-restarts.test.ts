/**
 * A sandbox stopped, started and restarted repeatedly while a client keeps requesting through the
 * gateway (issue: faults survived). Without auto-start every answer is the app's, a coded
 * `sandbox_stopped` / `sandbox_starting`, or (for the moment between the sandbox starting and its
 * app listening again) Daytona's bare 502, never Daytona's JSON or an uncoded gateway error, and
 * the app answers again as soon as the sandbox is back. With auto-start the gateway wakes the sandbox
 * itself, so a client that follows the coded `sandbox_starting` (Retry-After) loses no request.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaytonaPort } from '../../broker/node/daytona-sdk.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { GATE_PATHS } from '../../protocol/index.js';
import { cookieHeaderOf, rawRequest } from '../support/stack.js';

let emulator: Emulator;
const secret = randomBytes(32).toString('base64url');
const running: { gateway: RunningGateway; daytona: ReturnType<typeof createDaytonaPort> }[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
}, 60_000);
afterAll(async () => {
  for (const r of running) {
    await r.gateway.close();
    await r.daytona.close();
  }
  await emulator?.close();
});

async function gatewayWith(autoStart: boolean): Promise<RunningGateway> {
  const daytona = createDaytonaPort({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us', requestTimeoutMs: 5_000 });
  const gateway = await startGateway({
    config: { userJwtSecret: secret, autoStart, limits: { rateLimits: false } },
    daytona,
    port: 0,
    logger: { info() {}, warn() {}, error() {} },
  });
  running.push({ gateway, daytona });
  return gateway;
}

async function openPreview(gateway: RunningGateway, sandboxId: string): Promise<{ host: string; cookie: string }> {
  const session = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ana')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
  const created = await rawRequest(gateway.port, `127.0.0.1:${gateway.port}`, '/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId, port: 3000 }),
  });
  expect(created.status).toBe(201);
  const code = new URLSearchParams(new URL(created.json<{ url: string }>().url).hash.slice(1)).get('code')!;
  const host = `3000-${sandboxId}.preview.localhost:${gateway.port}`;
  const ex = await rawRequest(gateway.port, host, GATE_PATHS.session, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  expect(ex.status).toBe(200);
  return { host, cookie: cookieHeaderOf(ex.setCookies) };
}

/** Requests in a loop until `stop()`; records each answer as a status or `status code`. */
function load(gateway: RunningGateway, host: string, cookie: string) {
  const outcomes: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const res = await rawRequest(gateway.port, host, `/api/echo?i=${i}`, { headers: { cookie, accept: 'application/json' } });
      let code = '';
      if (res.status !== 200) {
        try {
          code = ` ${res.json<{ error?: { code?: string } }>()?.error?.code ?? 'uncoded'}`;
        } catch {
          code = res.text === '' ? ' (empty)' : ' (not json)';
        }
      }
      outcomes.push(`${res.status}${code}`);
    }
  })();
  return {
    outcomes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a sandbox stopped and started repeatedly under load', () => {
  it('without auto-start: only the app, sandbox_stopped or sandbox_starting; the app answers again after each start', async () => {
    const gateway = await gatewayWith(false);
    const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const { host, cookie } = await openPreview(gateway, id);
    const traffic = load(gateway, host, cookie);
    for (let round = 0; round < 4; round++) {
      await sleep(150);
      await emulator.stopSandbox(id);
      await sleep(150);
      await emulator.startSandbox(id);
    }
    await sleep(300);
    await traffic.stop();
    const kinds = new Set(traffic.outcomes);
    // '502 (empty)': the sandbox is started but its app is not listening again yet, and Daytona's
    // proxy answers a bare 502 that the gateway passes through. Not yet a coded answer: that is
    // the "waiting for the app" state of issue 14 (`app_not_listening`), still to build.
    for (const k of kinds) expect(['200', '503 sandbox_stopped', '503 sandbox_starting', '502 (empty)']).toContain(k);
    expect(traffic.outcomes).toContain('503 sandbox_stopped'); // the stops were seen...
    expect(traffic.outcomes.at(-1)).toBe('200'); // ...and the app is back at the end
    // Positive control after the storm: the preview works as it did.
    expect((await rawRequest(gateway.port, host, '/api/echo', { headers: { cookie } })).status).toBe(200);
  }, 60_000);

  it('with auto-start: a client that retries the coded sandbox_starting loses no request', async () => {
    const gateway = await gatewayWith(true);
    const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const { host, cookie } = await openPreview(gateway, id);
    let served = 0;
    let retries = 0;
    for (let round = 0; round < 4; round++) {
      await emulator.stopSandbox(id);
      for (let i = 0; i < 5; i++) {
        // A browser follows the starting page's refresh; a program follows Retry-After.
        for (let attempt = 0; ; attempt++) {
          const res = await rawRequest(gateway.port, host, `/api/echo?r=${round}&i=${i}`, { headers: { cookie, accept: 'application/json' } });
          if (res.status === 200) break;
          expect(`${res.status} ${res.text.includes('"code"') ? res.json<{ error: { code: string } }>().error.code : `(${res.text || 'empty'})`}`).toBe(
            '503 sandbox_starting',
          );
          expect(attempt).toBeLessThan(100);
          retries++;
          await sleep(50);
        }
        served++;
      }
    }
    expect(served).toBe(20);
    expect(retries).toBeGreaterThan(0); // the sandbox really was stopped each round
  }, 60_000);
});
