/**
 * Graceful shutdown of a gateway process (broker/node/main.ts → server.ts `drain()`), over real
 * sockets against the emulator: SIGTERM with a slow request and an open WebSocket in flight.
 */
import net from 'node:net';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { fleetClient, mintUserSession, previewHost } from './support/client.js';
import { killGateway, spawnGateway, waitUntil, type GatewayProcess } from './support/gateway-process.js';

const secret = randomBytes(32).toString('base64url');
let emulator: Emulator;
let sandboxId: string;
let gw: GatewayProcess | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  sandboxId = (await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
});
afterAll(async () => emulator?.close());
afterEach(async () => killGateway(gw));

function start(drainSeconds: number): Promise<GatewayProcess> {
  return spawnGateway({
    GATE_USER_JWT_SECRET: secret,
    DAYTONA_API_URL: emulator.apiUrl,
    DAYTONA_API_KEY: emulator.apiKey,
    DAYTONA_TARGET: 'us',
    GATE_DRAIN_SECONDS: String(drainSeconds),
  });
}

/** A GET with an access token on its own connection; resolves with status and body, or the error. */
function slowGet(g: GatewayProcess, token: string, ms: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port: g.port,
        path: `/slow?ms=${ms}`,
        agent: false,
        headers: { host: previewHost(sandboxId, 3000, g.port), 'x-daytona-preview-token': token },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

/** An open WebSocket to the inspector's echo through the gateway, authenticated by header. */
async function openSocket(g: GatewayProcess, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${g.port}/ws`, { headers: { host: previewHost(sandboxId, 3000, g.port), 'x-daytona-preview-token': token } });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  ws.send('before shutdown');
  expect(await echoed).toBe('before shutdown');
  return { ws, closed };
}

/** A raw connection holding a request begun but not finished: not idle, so the drain keeps it. */
async function pendingRequest(port: number, path: string) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
  return {
    finish: async () => {
      socket.write('\r\n');
      await waitUntil(() => /\r\n\r\n[\s\S]*\}/.test(answer), 10_000, `the answer to ${path}`);
      socket.destroy();
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]),
        body: JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '')) as Record<string, unknown>,
        raw: answer,
      };
    },
  };
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown (SIGTERM)', () => {
  it('lets a slow request finish, closes a WebSocket with 1001, answers /readyz 503 meanwhile, and exits 0 within the drain timeout', async () => {
    gw = await start(15);
    const client = fleetClient(gw.port);
    const ready = await client.gateway('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { store: 'ok', daytona: 'ok' } });

    const { grant } = await client.launch(await mintUserSession(secret, 'bob'), sandboxId, 3000);
    const { closed } = await openSocket(gw, grant.accessToken);
    const readyz = await pendingRequest(gw.port, '/readyz');
    const slow = slowGet(gw, grant.accessToken, 2_500);
    await new Promise((r) => setTimeout(r, 500)); // the slow request is at the app by now

    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    await gw.waitForOutput(/"event":"shutdown"/, 10_000);

    const during = await readyz.finish();
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ status: 'draining' });
    expect(String(during.body.reason)).toMatch(/shutting down/);
    expect(during.raw.toLowerCase()).toContain('connection: close');
    expect(await connectRefused(gw.port)).toBe(true); // the listener no longer accepts

    const ws = await closed;
    expect(ws.code).toBe(1001);
    expect(ws.reason).toMatch(/shutting down/);

    expect(await slow).toEqual({ status: 200, body: JSON.stringify({ waitedMs: 2_500 }) });
    expect((await gw.exited).code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(15_000);
    expect(gw.events('drained')).toHaveLength(1);
  });

  it('cuts what outlives GATE_DRAIN_SECONDS, logs it, and still exits 0', async () => {
    gw = await start(1);
    const { grant } = await fleetClient(gw.port).launch(await mintUserSession(secret, 'bob'), sandboxId, 3000);
    const slow = slowGet(gw, grant.accessToken, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(await slow).toHaveProperty('error'); // cut, never a complete-looking answer
    expect(gw.events('drain_timeout')[0]).toMatchObject({ forced: 1 });
  });

  it('a second signal a second later forces the stop with exit code 1; an immediate duplicate does not', async () => {
    gw = await start(30);
    const { grant } = await fleetClient(gw.port).launch(await mintUserSession(secret, 'bob'), sandboxId, 3000);
    const slow = slowGet(gw, grant.accessToken, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    gw.child.kill('SIGINT');
    gw.child.kill('SIGINT'); // Ctrl-C reaching the process twice (terminal + npm forwarding)
    await gw.waitForOutput(/"event":"shutdown"/, 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(gw.child.exitCode).toBeNull(); // still draining the slow request
    gw.child.kill('SIGINT');
    expect((await gw.exited).code).toBe(1);
    expect(gw.events('shutdown_forced')).toHaveLength(1);
    await slow;
  });
});
