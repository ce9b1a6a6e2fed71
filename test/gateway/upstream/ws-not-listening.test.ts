/**
 * A WebSocket upgrade to a sandbox port where nothing listens: Daytona answers the handshake
 * with its bare 502 (no body, no type: the emulator reproduces it, demo/emulator/decide.ts), and
 * the relay answers the coded `app_not_listening` 502 with Retry-After, exactly as HTTP does
 * (broker/core/upstream/daytona-answers.ts), never the bare answer nor Daytona's token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { relayWebSocketWithRetry } from '../../../broker/node/ws/relay.js';
import { parsePreviewLabel } from '../../../protocol/index.js';
import { startRig, type Rig } from './support.js';

let rig: Rig;
let gateway: Server;
let gatewayPort = 0;
const logged: Record<string, unknown>[] = [];

beforeAll(async () => {
  rig = await startRig();
  gateway = createServer((_req, res) => res.writeHead(404).end());
  gateway.on('upgrade', (req, socket, head) => {
    const target = parsePreviewLabel((req.headers.host ?? '').split('.')[0] ?? '');
    if (!target) return void socket.destroy();
    void relayWebSocketWithRetry(req, socket, head, (fresh) => rig.upstream.webSocketTarget(target, req.url ?? '/', { fresh }), {
      stripRequestHeaders: ['authorization'],
      stripCookies: ['__Host-pg-*'],
      preview: { target, originOf: (t) => `http://${t.port}-${t.sandboxId}.preview.localhost:8787` },
      log: { logger: { info: (_e, f) => logged.push(f ?? {}), warn() {}, error() {} }, fields: {} },
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayPort = (gateway.address() as AddressInfo).port;
}, 60_000);
afterAll(async () => {
  gateway?.closeAllConnections();
  await new Promise((r) => gateway?.close(r));
  await rig?.close();
});

function answerOf(sandboxId: string, port: number): Promise<{ status: number; headers: Record<string, unknown>; body: string } | 'open'> {
  const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/ws`, { headers: { host: `${port}-${sandboxId}.preview.localhost:8787` } });
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('WebSocket upgrade to a port with nothing listening', () => {
  it('is answered the coded app_not_listening 502 (Retry-After), like HTTP; a listening port opens', async () => {
    const { id } = await rig.emulator.createSandbox({});
    // Positive control: the app's own port opens.
    expect(await answerOf(id, 3000)).toBe('open');
    const answer = await answerOf(id, 3999);
    if (answer === 'open') throw new Error('opened a port with nothing listening');
    expect(answer.status).toBe(502);
    expect(answer.headers['retry-after']).toBe('2');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'app_not_listening' } });
    expect(JSON.parse(answer.body).error.message).toContain('3999');
    expect(JSON.stringify(answer)).not.toContain(rig.emulator.standardToken(id));
    await expect.poll(() => logged.some((l) => l.code === 'app_not_listening' && l.status === 502), { timeout: 10_000 }).toBe(true);
  }, 60_000);
});
