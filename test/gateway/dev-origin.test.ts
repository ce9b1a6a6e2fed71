/**
 * Dev-server Origin presentation (broker/core/upstream/dev-origin.ts) and the truth of the
 * upgrade log (broker/node/ws/relay.ts), through the real stack: the Daytona emulator's proxy,
 * the gateway and a stand-in dev server bound to sandbox port 4000 that records what reached it
 * and, like Next/Streamlit/Jupyter, refuses its dev endpoints unless `Origin` is its own
 * `http://localhost:4000` (Daytona's Host). The real dev servers are in test/frameworks/.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Logger } from '../../broker/core/contracts.js';
import { devEndpointOf, devServerRefusal, presentedOrigin } from '../../broker/core/upstream/dev-origin.js';
import { startStack, type Stack } from '../support/stack.js';

const PORT = 4000;
const OWN = `http://localhost:${PORT}`;

interface Seen {
  kind: 'upgrade' | 'http';
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** A dev server that guards its dev endpoints the way Next/Streamlit/Jupyter do (Origin must match its Host). */
async function startDevServer(seen: Seen[]): Promise<{ url: string; close(): Promise<void> }> {
  const guarded = (path: string, kind: 'upgrade' | 'request') => devEndpointOf(path, kind) !== null;
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ kind: 'http', path, headers: { ...req.headers } });
    req.resume();
    if (req.headers.origin && guarded(path, 'request') && req.headers.origin !== `http://${req.headers.host}`)
      return void res.writeHead(403).end('cross-origin');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ origin: req.headers.origin ?? null }));
  });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ kind: 'upgrade', path, headers: { ...req.headers } });
    if (guarded(path, 'upgrade') && req.headers.origin !== `http://${req.headers.host}`) {
      return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 12\r\nconnection: close\r\n\r\ncross-origin');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (m) => ws.send(`echo:${String(m)}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Rig {
  stack: Stack;
  lines: { event: string; [k: string]: unknown }[];
  cookie: string;
  origin: string;
}

async function rig(devServerOrigin: boolean, url: string): Promise<Rig> {
  const lines: Rig['lines'] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  const logger: Logger = { info: keep, warn: keep, error: keep };
  // The public scheme is https (a TLS proxy in front), the gateway listens in plain HTTP.
  const stack = await startStack({ logger, gateway: { devServerOrigin, publicScheme: 'https' } });
  await stack.emulator.bindPort(stack.sandboxes.open, PORT, { target: url });
  const { cookieHeader } = await stack.launch('bob', stack.sandboxes.open, PORT);
  return { stack, lines, cookie: cookieHeader, origin: stack.previewOrigin(stack.sandboxes.open, PORT) };
}

/** Opens a WebSocket through the gateway; resolves with the handshake status (101 = open, then closed by us). */
function handshake(r: Rig, path: string, origin: string | null): Promise<{ status: number; echo?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${r.stack.gateway.port}${path}`, {
      headers: { host: r.stack.previewHost(r.stack.sandboxes.open, PORT), cookie: r.cookie, ...(origin ? { origin } : {}) },
    });
    ws.once('open', () => {
      ws.send('hi');
      ws.once('message', (m) => {
        ws.close();
        resolve({ status: 101, echo: String(m) });
      });
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

async function waitFor<T>(fn: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('dev endpoints of known frameworks (unit)', () => {
  it('are recognised by path, a base path allowed; nothing else is', () => {
    expect(devEndpointOf('/_next/hmr', 'upgrade')).toBe('nextjs');
    expect(devEndpointOf('/docs/_next/webpack-hmr', 'upgrade')).toBe('nextjs');
    expect(devEndpointOf('/__nextjs_original-stack-frames', 'request')).toBe('nextjs');
    expect(devEndpointOf('/_stcore/stream', 'upgrade')).toBe('streamlit');
    expect(devEndpointOf('/api/kernels/0b9c/channels', 'upgrade')).toBe('jupyter');
    expect(devEndpointOf('/api/contents/untitled.ipynb', 'request')).toBe('jupyter');
    expect(devEndpointOf('/lab/api/settings/x', 'request')).toBe('jupyter');
    for (const p of ['/', '/_next/static/chunk.js', '/api/echo', '/api/contentsx', '/x_next/hmr', '/_stcore/streamer', '/dashboard']) {
      expect(devEndpointOf(p, 'upgrade')).toBeNull();
      expect(devEndpointOf(p, 'request')).toBeNull();
    }
  });

  it('a foreign, absent or sibling Origin is never replaced, nor anything when switched off (positive control first)', () => {
    const base = { enabled: true, kind: 'upgrade' as const, pathname: '/_next/hmr', previewOrigin: 'https://3000-a.p.test', port: 3000 };
    expect(presentedOrigin({ ...base, origin: 'https://3000-a.p.test' })).toBe('http://localhost:3000');
    expect(presentedOrigin({ ...base, origin: 'https://evil.test' })).toBeNull();
    expect(presentedOrigin({ ...base, origin: 'https://3001-a.p.test' })).toBeNull();
    expect(presentedOrigin({ ...base, origin: null })).toBeNull();
    expect(presentedOrigin({ ...base, origin: 'https://3000-a.p.test', enabled: false })).toBeNull();
    expect(presentedOrigin({ ...base, origin: 'https://3000-a.p.test', pathname: '/socket' })).toBeNull();
  });

  it("tells a framework's refusal from an app's own answer", () => {
    expect(devServerRefusal('/_next/hmr', 'upgrade', 502)).toBe('nextjs');
    expect(devServerRefusal('/_stcore/stream', 'upgrade', 403)).toBe('streamlit');
    expect(devServerRefusal('/api/contents', 'request', 404)).toBe('jupyter');
    expect(devServerRefusal('/_next/hmr', 'upgrade', 101)).toBeNull();
    expect(devServerRefusal('/api/echo', 'request', 403)).toBeNull();
  });
});

describe('through the gateway, presentation on (the default)', () => {
  const seen: Seen[] = [];
  let dev: Awaited<ReturnType<typeof startDevServer>>;
  let r: Rig;
  beforeAll(async () => {
    dev = await startDevServer(seen);
    r = await rig(true, dev.url);
  });
  afterAll(async () => {
    await r?.stack.close();
    await dev?.close();
  });
  const last = (kind: Seen['kind'], path: string) => [...seen].reverse().find((s) => s.kind === kind && s.path === path);

  it.each(['/_next/hmr', '/_next/webpack-hmr', '/_stcore/stream', '/api/kernels/k1/channels', '/terminals/websocket/1'])(
    'the %s upgrade from the preview page reaches the dev server as its own origin',
    async (path) => {
      expect(await handshake(r, path, r.origin)).toEqual({ status: 101, echo: 'echo:hi' });
      expect(last('upgrade', path)?.headers.origin).toBe(OWN);
      expect(last('upgrade', path)?.headers.host).toBe(`localhost:${PORT}`);
    },
  );

  it("any other socket keeps the browser's Origin (the preview origin)", async () => {
    expect((await handshake(r, '/socket', r.origin)).status).toBe(101);
    expect(last('upgrade', '/socket')?.headers.origin).toBe(r.origin);
  });

  it("a cross-origin page's upgrade to a dev endpoint is refused by the gateway before the dev server (positive control above)", async () => {
    const before = seen.length;
    for (const origin of ['https://evil.example', r.origin.replace(`${PORT}-`, '3000-')]) {
      expect((await handshake(r, '/_next/hmr', origin)).status).toBe(403);
    }
    expect(seen.slice(before).filter((s) => s.kind === 'upgrade')).toEqual([]);
  });

  it("a dev-overlay or Jupyter API request from the preview page is presented as the app's own; a foreign one keeps its Origin and is refused by the app", async () => {
    const post = (path: string, origin: string, extra: Record<string, string> = {}) =>
      r.stack.requestPreview(r.stack.sandboxes.open, PORT, path, { method: 'POST', headers: { cookie: r.cookie, origin, ...extra }, body: '{}' });
    expect((await post('/__nextjs_original-stack-frames', r.origin)).status).toBe(200);
    expect(last('http', '/__nextjs_original-stack-frames')?.headers.origin).toBe(OWN);
    expect((await post('/api/contents', r.origin)).status).toBe(200);
    expect(last('http', '/api/contents')?.headers.origin).toBe(OWN);
    expect((await post('/api/contents', 'https://evil.example')).status).toBe(403);
    expect(last('http', '/api/contents')?.headers.origin).toBe('https://evil.example');
  });

  it('a Next Server Action (POST to a page with Next-Action) keeps the real Origin, which its CSRF check compares with X-Forwarded-Host', async () => {
    const res = await r.stack.requestPreview(r.stack.sandboxes.open, PORT, '/dashboard', {
      method: 'POST',
      headers: { cookie: r.cookie, origin: r.origin, 'next-action': 'abc123' },
      body: '[]',
    });
    expect(res.status).toBe(200);
    const s = last('http', '/dashboard')!;
    expect(s.headers.origin).toBe(r.origin);
    expect(String(s.headers['x-forwarded-host'])).toContain(new URL(r.origin).host);
  });

  it('X-Forwarded-Proto is the public scheme (https) for HTTP and WebSocket alike, though the gateway listens in plain HTTP', async () => {
    await r.stack.requestPreview(r.stack.sandboxes.open, PORT, '/proto', { headers: { cookie: r.cookie } });
    expect(last('http', '/proto')?.headers['x-forwarded-proto']).toBe('https');
    await handshake(r, '/proto-ws', r.origin);
    expect(last('upgrade', '/proto-ws')?.headers['x-forwarded-proto']).toBe('https');
  });

  it("an upgrade is logged with the upstream's real answer, and its close", async () => {
    await handshake(r, '/logged', r.origin);
    const host = r.stack.previewHost(r.stack.sandboxes.open, PORT);
    const line = await waitFor(() => r.lines.find((l) => l.event === 'upgrade' && l.path === '/logged'), 'upgrade line');
    expect(line).toMatchObject({ status: 101, upstreamStatus: 101, host, user: 'bob' });
    const closed = await waitFor(() => r.lines.find((l) => l.event === 'upgrade.closed' && l.path === '/logged'), 'close line');
    expect(closed).toMatchObject({ by: expect.stringMatching(/^(client|upstream)$/), host, user: 'bob' });
    expect(closed.bytesIn).toBeGreaterThan(0);
  });
});

describe('through the gateway, presentation off (GATE_DEV_SERVER_ORIGIN=false)', () => {
  const seen: Seen[] = [];
  let dev: Awaited<ReturnType<typeof startDevServer>>;
  let r: Rig;
  beforeAll(async () => {
    dev = await startDevServer(seen);
    r = await rig(false, dev.url);
  });
  afterAll(async () => {
    await r?.stack.close();
    await dev?.close();
  });

  it('the dev server refuses the preview origin; the log says 403 (not 101) and hints the one setting, once per framework', async () => {
    expect((await handshake(r, '/_stcore/stream', r.origin)).status).toBe(403);
    expect((await handshake(r, '/_stcore/stream', r.origin)).status).toBe(403);
    expect((await handshake(r, '/_next/hmr', r.origin)).status).toBe(403);
    const upgrades = r.lines.filter((l) => l.event === 'upgrade' && l.path === '/_stcore/stream');
    expect(upgrades.map((l) => [l.status, l.upstreamStatus])).toEqual([
      [403, 403],
      [403, 403],
    ]);
    const hints = r.lines.filter((l) => l.event === 'dev_server_refused');
    expect(hints.map((h) => h.framework)).toEqual(['streamlit', 'nextjs']);
    expect(String(hints[0]!.hint)).toContain('corsAllowedOrigins');
    expect(String(hints[1]!.hint)).toContain("allowedDevOrigins: ['*.preview.localhost']");
    expect(String(hints[1]!.hint)).toContain('GATE_DEV_SERVER_ORIGIN is off');
    const post = await r.stack.requestPreview(r.stack.sandboxes.open, PORT, '/api/sessions', {
      method: 'POST',
      headers: { cookie: r.cookie, origin: r.origin },
      body: '{}',
    });
    expect(post.status).toBe(403);
    expect(seen.at(-1)?.headers.origin).toBe(r.origin);
    expect(r.lines.filter((l) => l.event === 'dev_server_refused').map((h) => h.framework)).toEqual(['streamlit', 'nextjs', 'jupyter']);
  });
});
