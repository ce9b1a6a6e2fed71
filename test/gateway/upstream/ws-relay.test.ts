/**
 * The WebSocket relay hosted by a raw node:http server (as broker/node/server.ts will host it),
 * through the emulator's preview proxy to the inspector's /ws echo.
 */
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { relayWebSocketWithRetry } from '../../../broker/node/ws/relay.js';
import { parsePreviewLabel } from '../../../protocol/index.js';
import { startApp, startRig, type Rig } from './support.js';

let rig: Rig;
let gateway: Server;
let gatewayPort = 0;
let closes = 0;
/** Upgrades handed to the relay; `opens - closes` is the number of relays still open. */
let opens = 0;
/** Called once the relay has its Daytona target, right before it opens the upstream handshake. */
let onTarget: (() => void) | null = null;

beforeAll(async () => {
  rig = await startRig();
  gateway = createServer((_req, res) => res.writeHead(404).end());
  gateway.on('upgrade', (req, socket, head) => {
    const target = parsePreviewLabel((req.headers.host ?? '').split('.')[0] ?? '');
    if (!target) return void socket.destroy();
    opens++;
    const getTarget = async (fresh: boolean) => {
      const t = await rig.upstream.webSocketTarget(target, req.url ?? '/', { fresh });
      onTarget?.();
      return t;
    };
    void relayWebSocketWithRetry(req, socket, head, getTarget, {
      stripRequestHeaders: ['authorization'],
      stripCookies: ['__Host-pg-*'],
      onClose: () => closes++,
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayPort = (gateway.address() as AddressInfo).port;
});
afterAll(async () => {
  gateway?.closeAllConnections();
  await new Promise((r) => gateway?.close(r));
  await rig?.close();
});

function connect(sandboxId: string, path: string, port = 3000, options: WebSocket.ClientOptions = {}, protocols?: string[]): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${gatewayPort}${path}`, protocols, {
    ...options,
    headers: { host: `${port}-${sandboxId}.preview.localhost:8787`, ...options.headers },
  });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)));
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

describe('WebSocket relay', () => {
  it('echoes text and binary frames through Daytona, negotiating the subprotocol end to end', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const ws = connect(id, '/ws', 3000, {}, ['chat.v1']);
    await opened(ws);
    expect(ws.protocol).toBe('chat.v1');
    ws.send('hello');
    const text = await nextMessage(ws);
    expect(text.data.toString()).toBe('hello');
    expect(text.isBinary).toBe(false);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    ws.send(bytes);
    const binary = await nextMessage(ws);
    expect(binary.isBinary).toBe(true);
    expect(Buffer.compare(binary.data, bytes)).toBe(0);
    const big = Buffer.alloc(1024 * 1024, 7);
    ws.send(big);
    expect((await nextMessage(ws)).data.length).toBe(big.length);
    const before = closes;
    ws.close(1000, 'done');
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(1000);
    for (let i = 0; i < 50 && closes === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(before + 1);
  });

  it('a signed link survives a restart: the upgrade after stop+start opens with no refusal', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const first = connect(id, '/ws');
    await opened(first);
    first.close();
    await rig.emulator.stopSandbox(id);
    await rig.emulator.startSandbox(id);
    const rejectedBefore = rig.emulator.stats.rejectedProxyRequests;
    const second = connect(id, '/ws');
    await opened(second);
    second.send('after restart');
    expect((await nextMessage(second)).data.toString()).toBe('after restart');
    second.close();
    expect(rig.emulator.stats.rejectedProxyRequests - rejectedBefore).toBe(0);
  });

  it('after the signed link was revoked the upgrade is retried once with a fresh link and succeeds', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const first = connect(id, '/ws');
    await opened(first);
    first.close();
    expect(rig.emulator.expireSignedTokens(id)).toBeGreaterThan(0);
    const rejectedBefore = rig.emulator.stats.rejectedProxyRequests;
    const second = connect(id, '/ws');
    await opened(second);
    second.send('after restart');
    expect((await nextMessage(second)).data.toString()).toBe('after restart');
    second.close();
    expect(rig.emulator.stats.rejectedProxyRequests - rejectedBefore).toBe(1); // one 307, then the retry passed
  });

  it('sends the app the client headers minus gateway credentials, with Origin kept and no Daytona token', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const wss = new WebSocketServer({ noServer: true });
    const app = await startApp((_req, res) => res.writeHead(404).end());
    app.server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify(req.headers))));
    try {
      await rig.emulator.bindPort(id, 4300, { target: app.url });
      const ws = connect(id, '/socket?x=1', 4300, {
        origin: `http://4300-${id}.preview.localhost:8787`,
        headers: { cookie: '__Host-pg-access=secret; app=1; __Host-pg-refresh=secret2', authorization: 'Bearer gate-token' },
      });
      const message = nextMessage(ws);
      await opened(ws);
      const headers = JSON.parse((await message).data.toString()) as Record<string, string>;
      ws.close();
      expect(headers.cookie).toBe('app=1');
      expect(headers.authorization).toBeUndefined();
      expect(headers.origin).toBe(`http://4300-${id}.preview.localhost:8787`);
      expect(headers['x-forwarded-host']).toContain(`4300-${id}.preview.localhost:8787`);
      expect(JSON.stringify(headers)).not.toContain(rig.emulator.standardToken(id));
    } finally {
      wss.close();
      await app.close();
    }
  });

  it('answers a stopped sandbox with a coded error, never leaking the token, and closes', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const warm = connect(id, '/ws');
    await opened(warm);
    warm.close();
    const token = rig.emulator.standardToken(id);
    await rig.emulator.stopSandbox(id);
    const ws = connect(id, '/ws');
    const answer = await new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: JSON.stringify(res.headers), body }));
      });
      ws.once('open', () => reject(new Error('opened')));
    });
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'sandbox_stopped' } });
    expect(answer.headers + answer.body).not.toContain(token);
  });

  it('with onStopped wired to an autoStart upstream, a stopped sandbox answers sandbox_starting and wakes', async () => {
    const upstream = rig.make({ autoStart: true });
    const { id } = await rig.emulator.createSandbox({});
    await rig.emulator.stopSandbox(id);
    const relay = createServer((_q, r) => r.writeHead(404).end());
    relay.on('upgrade', (req, socket, head) => {
      const t = { sandboxId: id, port: 3000 };
      void relayWebSocketWithRetry(req, socket, head, (fresh) => upstream.webSocketTarget(t, req.url ?? '/', { fresh }), {
        onStopped: () => upstream.sandboxStopped(id),
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as AddressInfo).port;
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('opened')));
      });
      expect(status).toBe(503);
      let opened = false;
      for (let i = 0; i < 50 && !opened; i++) {
        await new Promise((r) => setTimeout(r, 100));
        opened = await new Promise<boolean>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          ws.once('open', () => (ws.close(), resolve(true)));
          ws.once('unexpected-response', () => resolve(false));
          ws.once('error', () => resolve(false));
        });
      }
      expect(opened).toBe(true);
    } finally {
      relay.closeAllConnections();
      await new Promise((r) => relay.close(r));
    }
  });

  it('survives a client that resets its socket mid-handshake, and the open-relay count returns to 0', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const openNow = () => opens - closes;
    const settled = async () => {
      for (let i = 0; i < 250 && openNow() !== 0; i++) await new Promise((r) => setTimeout(r, 20));
      return openNow();
    };
    expect(await settled()).toBe(0);
    // `when`: 'before' resets as the relay gets its target (nothing sent upstream yet), 'during'
    // once the upstream handshake request is on its way to Daytona (the 101 not yet relayed).
    for (const when of ['before', 'during'] as const) {
      const client = tcpConnect(gatewayPort, '127.0.0.1');
      client.on('error', () => {});
      const reached = new Promise<void>((resolve) => {
        onTarget = () => {
          onTarget = null;
          if (when === 'before') client.resetAndDestroy();
          else setImmediate(() => client.resetAndDestroy());
          resolve();
        };
      });
      client.write(
        `GET /ws HTTP/1.1\r\nHost: 3000-${id}.preview.localhost:8787\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await reached; // the relay really got to the upstream handshake before the reset
      expect(await settled()).toBe(0);
    }
    // Positive control: the relay still works, and its count goes up and back down.
    const again = connect(id, '/ws');
    await opened(again);
    expect(openNow()).toBe(1);
    again.send('still here');
    expect((await nextMessage(again)).data.toString()).toContain('still here');
    again.close();
    expect(await settled()).toBe(0);
  });
});
