/**
 * Issue 9: ≤ 20 KB resident per idle authenticated WebSocket at 10,000 connections. Once the
 * two sockets are spliced (broker/node/ws/splice.ts), a relayed connection needs its sockets and
 * what closing needs (the metrics gauge, the `upgrade.closed` line, the 1001 on drain), nothing
 * of the handshake: the client's upgrade request (IncomingMessage, its headers), the core's
 * decision (broker/core/upgrade.ts: forward headers, closures, the target), the upstream
 * handshake's ClientRequest and its 101 IncomingMessage. Kept by listeners closing over the
 * handshake's scope, they were ~13 of the ~19 KB of live heap each idle connection cost
 * (docs/benchmarks.md, "Idle WebSockets: before and after"; scripts/ws-idle-memory.ts).
 *
 * Weak references to those objects, a forced full GC (node:v8 --expose-gc), through the real
 * gateway (test/support/stack.ts) and a sandbox app of our own that can hold its 101.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpgradeDecision } from '../../../broker/core/upgrade.js';
import { startStack, type Stack } from '../../support/stack.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Whether each weakly held object is still alive after full GCs in later turns (a WeakRef read keeps its target to the end of the turn). */
async function aliveAfterGc(refs: Record<string, WeakRef<object>>): Promise<Record<string, boolean>> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  return Object.fromEntries(Object.entries(refs).map(([k, r]) => [k, r.deref() !== undefined]));
}

let stack: Stack;
let app: http.Server;
let wss: WebSocketServer;
/** Upgrades the app has received; each is answered (101) only when its `answer()` is called. */
const arrived: { answer(): void }[] = [];
/** The gateway's `info` lines. */
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startStack({ logger: { info: (event, fields) => lines.push({ event, ...fields }), warn() {}, error() {} } });
  app = http.createServer((_q, r) => r.end());
  wss = new WebSocketServer({ noServer: true });
  app.on('upgrade', (req, socket, head) => {
    arrived.push({ answer: () => wss.handleUpgrade(req, socket, head, (c) => c.on('message', (d) => c.send(d.toString()))) });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  wss?.close();
  app?.closeAllConnections();
  await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  await stack?.close();
});

describe('idle relayed WebSockets (issue 9: memory per connection)', () => {
  it('an idle relayed WebSocket keeps no handshake objects alive: the upgrade request, the decision, the upstream ClientRequest and its 101 are collected; the sockets stay, still relay, log and count their close, and a drain still closes them with 1001', async () => {
    const { id } = await stack.emulator.createSandbox({
      labels: { 'preview-gate.users': '*' },
      ports: { 3000: { target: `http://127.0.0.1:${(app.address() as AddressInfo).port}` } },
    });
    const l = await stack.launch('bob', id, 3000);
    const host = stack.previewHost(id, 3000);
    const refs: Record<string, WeakRef<object>> = {};

    // The gateway's own objects, seen as they pass, held weakly only (patches undone below).
    const gw = stack.gateway.app;
    const authorize = gw.authorizeUpgrade;
    gw.authorizeUpgrade = async (...args) => {
      const d: UpgradeDecision = await authorize(...args);
      refs.decision = new WeakRef(d);
      if (d.ok) refs.forwardHeaders = new WeakRef(d.forwardHeaders);
      return d;
    };
    const serverEmit = http.Server.prototype.emit;
    http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
      const [req, socket, head] = args as [http.IncomingMessage, Duplex, Buffer];
      if (event === 'upgrade' && req.headers.host === host) {
        refs.upgradeRequest = new WeakRef(req);
        refs.upgradeHeaders = new WeakRef(req.headers);
        refs.head = new WeakRef(head);
        refs.clientSocket = new WeakRef(socket);
      }
      return Reflect.apply(serverEmit, this, [event, ...args]) as boolean;
    } as typeof serverEmit;
    const requestEmit = http.ClientRequest.prototype.emit;
    http.ClientRequest.prototype.emit = function (this: http.ClientRequest, event: string | symbol, ...args: unknown[]) {
      // The gateway's handshake to Daytona's proxy (ws/handshake-headers.ts names the preview host).
      if (event === 'upgrade' && this.getHeader('x-forwarded-host') === host) {
        const [res, socket] = args as [http.IncomingMessage, Duplex];
        refs.upstreamRequest = new WeakRef(this);
        refs.upstream101 = new WeakRef(res);
        refs.upstreamSocket = new WeakRef(socket);
      }
      return Reflect.apply(requestEmit, this, [event, ...args]) as boolean;
    } as typeof requestEmit;

    let ws: WebSocket | undefined;
    try {
      ws = new WebSocket(`ws://127.0.0.1:${stack.gateway.port}/live`, { headers: { host, cookie: l.cookieHeader, origin: stack.previewOrigin(id, 3000) } });
      ws.on('error', () => {});
      const opened = new Promise<void>((r) => ws!.once('open', () => r()));
      await expect.poll(() => arrived.length, { timeout: 10_000 }).toBe(1);

      // Positive control: mid-handshake (the app holds its 101) the relay needs them, and a
      // forced GC leaves them, so the weak references do see live objects.
      const mid = await aliveAfterGc({ upgradeRequest: refs.upgradeRequest!, upgradeHeaders: refs.upgradeHeaders!, decision: refs.decision! });
      expect(mid).toEqual({ upgradeRequest: true, upgradeHeaders: true, decision: true });

      arrived[0]!.answer();
      await opened;
      const echo = (text: string) =>
        new Promise<string>((r) => {
          ws!.once('message', (d) => r(d.toString()));
          ws!.send(text);
        });
      expect(await echo('before')).toBe('before');
      expect(stack.gateway.app.metrics.value('pg_websocket_connections_open')).toBe(1);

      const idle = await aliveAfterGc(refs);
      expect(idle).toEqual({
        decision: false,
        forwardHeaders: false,
        upgradeRequest: false,
        upgradeHeaders: false,
        head: false,
        upstreamRequest: false,
        upstream101: false,
        // Positive control: what an open connection needs is still there.
        clientSocket: true,
        upstreamSocket: true,
      });
      // Nothing it still needs went with them: it relays, and its close is counted.
      expect(await echo('after the GC')).toBe('after the GC');
      ws.close();
      await expect.poll(() => stack.gateway.app.metrics.value('pg_websocket_connections_open'), { timeout: 5_000 }).toBe(0);
      await expect
        .poll(() => lines.find((l) => l.event === 'upgrade.closed' && l.path === '/live'), { timeout: 5_000 })
        .toMatchObject({ user: 'bob', by: expect.stringMatching(/^(client|upstream)$/) });

      // And a graceful stop still closes an idle connection with 1001 (broker/node/drain.ts).
      const second = new WebSocket(`ws://127.0.0.1:${stack.gateway.port}/second`, {
        headers: { host, cookie: l.cookieHeader, origin: stack.previewOrigin(id, 3000) },
      });
      second.on('error', () => {});
      const secondOpen = new Promise<void>((r) => second.once('open', () => r()));
      await expect.poll(() => arrived.length, { timeout: 10_000 }).toBe(2);
      arrived[1]!.answer();
      await secondOpen;
      await aliveAfterGc({});
      const closed = new Promise<number>((r) => second.once('close', (code) => r(code)));
      const drained = stack.gateway.drain({ timeoutMs: 5_000 });
      expect(await closed).toBe(1001);
      expect((await drained).forced).toBe(0);
    } finally {
      ws?.terminate();
      gw.authorizeUpgrade = authorize;
      http.Server.prototype.emit = serverEmit;
      http.ClientRequest.prototype.emit = requestEmit;
    }
  }, 60_000);
});
