/**
 * Threat: a protocol switch other than WebSocket (`Upgrade: h2c`) relayed to the sandbox app
 * turns the connection into a tunnel the gateway no longer reads: requests sent inside it
 * escape every per-request check (a share link's path scope, the reserved prefix, hygiene).
 * The app here accepts every switch and records what travels through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { rawSocket } from './attack-support.js';
import { startEdgeRig, codeOf, shareToken, type TunnelApp } from './edge-support.js';

let stack: Stack;
let app: TunnelApp;
let sbx: string;
let l: LaunchResult;
let docsShare: string;

beforeAll(async () => {
  ({ stack, app, sbx } = await startEdgeRig());
  l = await stack.launch('bob', sbx, 3000);
  docsShare = await shareToken(stack, 'bob', sbx, 3000, '/docs');
}, 60_000);
afterAll(() => closeAll(stack, app));

const host = () => stack.previewHost(sbx, 3000);
/** An h2c upgrade (RFC 7540 §3.2) followed at once by a request meant for the tunnel. */
const h2c = (target: string, credential: string) =>
  `GET ${target} HTTP/1.1\r\nHost: ${host()}\r\n${credential}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n` +
  `GET /secret HTTP/1.1\r\nHost: ${host()}\r\n\r\n`;
const wsHandshake = (target: string, credential: string) =>
  `GET ${target} HTTP/1.1\r\nHost: ${host()}\r\n${credential}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

describe('protocol switches', () => {
  it('an h2c upgrade with a valid access token (header or cookie) is refused (coded 501) and never reaches the app', async () => {
    app.clear();
    for (const credential of [`X-Daytona-Preview-Token: ${l.grant.accessToken}\r\n`, `Cookie: ${l.cookieHeader}\r\n`]) {
      const r = await rawSocket(stack.gateway.port, h2c('/', credential));
      expect(r.status).toBe(501);
      expect(codeOf(r.body)).toBe('not_implemented');
      expect(r.head.toLowerCase()).toContain('connection: close');
    }
    expect(app.upgrades).toEqual([]);
    expect(app.tunnelled()).toBe('');
    expect(app.requests).toEqual([]);
  });

  it('an h2c upgrade with a share link scoped to /docs is refused, so /secret cannot be reached through a tunnel', async () => {
    app.clear();
    const r = await rawSocket(stack.gateway.port, h2c(`/docs?__gate_share=${docsShare}`, ''));
    expect(r.status).toBe(501);
    expect(codeOf(r.body)).toBe('not_implemented');
    expect(app.tunnelled()).not.toContain('/secret');
    expect(app.upgrades).toEqual([]);
    // Control: the same link still opens /docs and still refuses /secret as a plain request.
    const docs = await stack.requestPreview(sbx, 3000, `/docs?__gate_share=${docsShare}`);
    expect(docs.status).toBe(200);
    const secret = await stack.requestPreview(sbx, 3000, `/secret?__gate_share=${docsShare}`);
    expect([secret.status, secret.json<{ error: { code: string } }>().error.code]).toEqual([403, 'wrong_scope']);
  });

  it('other protocol names and lists (TLS/1.0, "h2c, websocket", "websocket, h2c") are refused too', async () => {
    app.clear();
    for (const upgrade of ['TLS/1.0', 'h2c, websocket', 'websocket, h2c', 'h2']) {
      const r = await rawSocket(
        stack.gateway.port,
        `GET / HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      expect([upgrade, r.status, codeOf(r.body)]).toEqual([upgrade, 501, 'not_implemented']);
    }
    expect(app.upgrades).toEqual([]);
  });

  it('control: a WebSocket upgrade with the same cookie, or the /docs share link on /docs, is relayed as `websocket`', async () => {
    app.clear();
    const withCookie = await rawSocket(stack.gateway.port, wsHandshake('/ws', `Cookie: ${l.cookieHeader}\r\n`), 1500);
    expect(withCookie.status).toBe(101);
    const withShare = await rawSocket(stack.gateway.port, wsHandshake(`/docs/ws?__gate_share=${docsShare}`, ''), 1500);
    expect(withShare.status).toBe(101);
    expect(app.upgrades.map((u) => u.upgrade)).toEqual(['websocket', 'websocket']);
    expect(app.upgrades.map((u) => u.url)).toEqual(['/ws', '/docs/ws']);
  });
});
