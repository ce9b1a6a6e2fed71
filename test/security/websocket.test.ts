/**
 * Threats on WebSockets: cross-site WebSocket hijacking (a foreign page rides the preview's
 * cookies: WebSockets are exempt from CORS), a replayed single-use ticket, and an upgrade
 * with no credential at all. And the positive paths: cookie, ticket, header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startStack, type Stack } from '../support/stack.js';
import { tryWebSocket } from './attack-support.js';

let stack: Stack;
let cookie: string;
let accessToken: string;
beforeAll(async () => {
  stack = await startStack();
  const l = await stack.launch('bob', stack.sandboxes.open, 3000);
  cookie = l.cookieHeader;
  accessToken = l.grant.accessToken;
});
afterAll(() => stack?.close());

const ws = (path: string, headers: Record<string, string> = {}, sandbox = stack.sandboxes.open, port = 3000) =>
  tryWebSocket(stack.gateway.port, stack.previewHost(sandbox, port), path, headers);
const origin = () => stack.previewOrigin(stack.sandboxes.open, 3000);

async function ticket(): Promise<string> {
  const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/ws-ticket', { method: 'POST', headers: { cookie, origin: origin() } });
  expect(res.status).toBe(200);
  const body = res.json<{ ticket: string; expiresAt: number }>();
  expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(30_000);
  return body.ticket;
}

describe('WebSockets', () => {
  it('WebSocket with the cookie (same-origin page) is relayed both ways', async () => {
    expect(await ws('/ws', { cookie, origin: origin() })).toEqual({ opened: true, echo: 'ping' });
  });

  it('WebSocket with the access token header (a program, no Origin) is relayed', async () => {
    expect(await ws('/ws', { 'x-daytona-preview-token': accessToken })).toEqual({ opened: true, echo: 'ping' });
  });

  it('cross-site WebSocket hijacking: a foreign Origin is refused even with valid cookies', async () => {
    for (const foreign of ['https://evil.example', 'http://3000-other.preview.localhost', stack.previewOrigin(stack.sandboxes.open, 8080), 'null']) {
      const out = await ws('/ws', { cookie, origin: foreign });
      expect(out.opened).toBe(false);
      if (!out.opened) {
        expect(out.status).toBe(403);
        expect(JSON.parse(out.body).error.code).toBe('origin_forbidden');
      }
    }
  });

  it('WebSocket with a single-use ticket works once; the ticket replayed is refused', async () => {
    const t = await ticket();
    expect(await ws(`/ws?__gate_ticket=${t}`, { origin: origin() })).toEqual({ opened: true, echo: 'ping' });
    const replay = await ws(`/ws?__gate_ticket=${t}`, { origin: origin() });
    expect(replay.opened).toBe(false);
    if (!replay.opened) {
      expect(replay.status).toBe(401);
      expect(JSON.parse(replay.body).error.code).toBe('invalid_token');
    }
  });

  it('a ticket cannot be minted by a foreign page', async () => {
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/ws-ticket', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
  });

  it('WebSocket without credentials is refused 401 with a coded body', async () => {
    const out = await ws('/ws', { origin: origin() });
    expect(out.opened).toBe(false);
    if (!out.opened) {
      expect(out.status).toBe(401);
      expect(JSON.parse(out.body).error.code).toBe('missing_credential');
    }
  });

  it('a WebSocket to a reserved port or another port with this cookie/token is refused', async () => {
    const reserved = await ws('/ws', { 'x-daytona-preview-token': accessToken }, stack.sandboxes.open, 22222);
    expect(reserved.opened ? 0 : reserved.status).toBe(403);
    const otherPort = await ws('/ws', { 'x-daytona-preview-token': accessToken }, stack.sandboxes.open, 8080);
    expect(otherPort.opened ? 0 : otherPort.status).toBe(403);
  });

  it('counts WebSocket connections in /metrics', async () => {
    const text = (await stack.requestGateway('/metrics')).text;
    expect(text).toMatch(/pg_websocket_connections_total \d+/);
    expect(text).toMatch(/# TYPE pg_websocket_connections_open gauge/);
    expect(text).toMatch(/pg_websocket_refused_total\{code="origin_forbidden"\} [1-9]/);
  });

  it('no gateway credential reaches the app on the WebSocket handshake; the identity assertion does', async () => {
    // A sandbox app of our own that records the handshake it receives.
    const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
    const app = http.createServer((_q, r) => r.end());
    const wss = new WebSocketServer({ noServer: true });
    app.on('upgrade', (req, socket, head) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      wss.handleUpgrade(req, socket, head, (c) => c.on('message', (d) => c.send(d.toString())));
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    try {
      const { id } = await stack.emulator.createSandbox({
        labels: { 'preview-gate.users': '*' },
        ports: { 3000: { target: `http://127.0.0.1:${(app.address() as AddressInfo).port}` } },
      });
      const l = await stack.launch('bob', id, 3000);
      const own = stack.previewOrigin(id, 3000);
      const t = (await stack.requestPreview(id, 3000, '/__gate/ws-ticket', { method: 'POST', headers: { cookie: l.cookieHeader, origin: own } })).json<{
        ticket: string;
      }>().ticket;
      const out = await tryWebSocket(stack.gateway.port, stack.previewHost(id, 3000), `/hmr?x=1&__gate_ticket=${t}`, {
        cookie: `${l.cookieHeader}; app=kept`,
        origin: own,
        'x-preview-gate-identity': 'forged',
        'x-daytona-preview-token': l.grant.accessToken,
      });
      expect(out).toEqual({ opened: true, echo: 'ping' });
      const hs = seen.at(-1)!;
      expect(hs.url).toBe('/hmr?x=1');
      expect(hs.headers.cookie).toBe('app=kept');
      expect(hs.headers['x-daytona-preview-token']).toBeUndefined();
      const raw = JSON.stringify(hs);
      for (const secret of [l.grant.accessToken, l.grant.refreshToken, t]) expect(raw).not.toContain(secret);
      const { payload } = await jwtVerify(String(hs.headers['x-preview-gate-identity']), createRemoteJWKSet(new URL(stack.jwksUrl)), { audience: own });
      expect(payload.sub).toBe('bob');
    } finally {
      wss.close();
      app.closeAllConnections();
      await new Promise<void>((r) => app.close(() => r()));
    }
  });
});
