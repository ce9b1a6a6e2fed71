/**
 * Threats: request framing a front proxy reads differently from the gateway (request
 * smuggling, RFC 9112 §11.2), and answers outside the one error model (a bare 400, a 500
 * `internal`) that tell a client nothing and may keep a confused connection open.
 * Raw sockets: Node's client refuses to send most of these.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { rawSocket } from './attack-support.js';
import { startEdgeRig, codeOf, type TunnelApp } from './edge-support.js';

let stack: Stack;
let app: TunnelApp;
let sbx: string;
let l: LaunchResult;

beforeAll(async () => {
  ({ stack, app, sbx } = await startEdgeRig());
  l = await stack.launch('bob', sbx, 3000);
}, 60_000);
afterAll(() => closeAll(stack, app));

const host = () => stack.previewHost(sbx, 3000);
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));

describe('request framing', () => {
  it('HTTP/1.0 with Transfer-Encoding: chunked is refused (400) and the connection closed: a pipelined request is never served', async () => {
    app.clear();
    const r = await rawSocket(
      stack.gateway.port,
      `POST /first HTTP/1.0\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` +
        `GET /second HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\n`,
    );
    expect(r.status).toBe(400);
    expect(codeOf(r.body.slice(0, r.body.indexOf('}}') + 2))).toBe('bad_request');
    expect(r.head.toLowerCase()).toContain('connection: close');
    expect(statuses(r.text)).toEqual([400]);
    expect(app.requests).toEqual([]);
  });

  it('control: HTTP/1.0 with Content-Length, and keep-alive HTTP/1.1 pipelining, are served', async () => {
    app.clear();
    const r10 = await rawSocket(stack.gateway.port, `POST /one HTTP/1.0\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nContent-Length: 2\r\n\r\nhi`);
    expect(r10.status).toBe(200);
    const piped = await rawSocket(
      stack.gateway.port,
      `GET /a HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\nGET /b HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(piped.text)).toEqual([200, 200]);
    expect(app.requests).toEqual(['POST /one', 'GET /a', 'GET /b']);
  });

  it('duplicate Host headers are refused (400 invalid_host), whichever comes first', async () => {
    app.clear();
    for (const [first, second] of [
      [host(), '127.0.0.1'],
      ['127.0.0.1', host()],
      [host(), host()],
    ]) {
      const r = await rawSocket(
        stack.gateway.port,
        `GET / HTTP/1.1\r\nHost: ${first}\r\nHost: ${second}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`,
      );
      expect([first, second, r.status, codeOf(r.body)]).toEqual([first, second, 400, 'invalid_host']);
      expect(r.head.toLowerCase()).toContain('connection: close');
    }
    // The same on a WebSocket handshake.
    const ws = await rawSocket(
      stack.gateway.port,
      `GET /ws HTTP/1.1\r\nHost: ${host()}\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect([ws.status, codeOf(ws.body)]).toEqual([400, 'invalid_host']);
    expect(app.requests).toEqual([]);
    expect(app.upgrades).toEqual([]);
  });

  it('an HTTP/1.1 request without Host is refused with a coded 400', async () => {
    const r = await rawSocket(stack.gateway.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect([r.status, codeOf(r.body)]).toEqual([400, 'invalid_host']);
  });
});

describe('coded answers for what the gateway does not serve', () => {
  it('an authenticated TRACE or CONNECT is refused with a coded 405 (never 500 internal) and never forwarded', async () => {
    app.clear();
    for (const method of ['TRACE']) {
      const r = await rawSocket(stack.gateway.port, `${method} / HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`);
      expect([method, r.status, codeOf(r.body)]).toEqual([method, 405, 'method_not_allowed']);
    }
    const connect = await rawSocket(stack.gateway.port, `CONNECT ${host()} HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\n`);
    expect([connect.status, codeOf(connect.body)]).toEqual([405, 'method_not_allowed']);
    expect(connect.head.toLowerCase()).toContain('connection: close');
    expect(app.requests).toEqual([]);
  });

  it('an unknown method (FROB, TRACK) is refused with a coded 501 and the connection closed', async () => {
    for (const method of ['FROB', 'TRACK']) {
      const r = await rawSocket(stack.gateway.port, `${method} / HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\n`);
      expect([method, r.status, codeOf(r.body)]).toEqual([method, 501, 'not_implemented']);
      expect(r.head.toLowerCase()).toContain('connection: close');
    }
  });

  it('control: WebDAV methods an app may use (PROPFIND, MKCOL) are forwarded', async () => {
    app.clear();
    for (const method of ['PROPFIND', 'MKCOL']) {
      const r = await rawSocket(stack.gateway.port, `${method} /dav HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`);
      expect([method, r.status]).toEqual([method, 200]);
    }
    expect(app.requests).toEqual(['PROPFIND /dav', 'MKCOL /dav']);
  });

  it('a Host with port 99999, or a backslash in the path, is refused with a coded 400 and Connection: close (not a bare 400)', async () => {
    const badPort = await rawSocket(stack.gateway.port, `GET / HTTP/1.1\r\nHost: 3000-${sbx}.preview.localhost:99999\r\n\r\n`);
    expect([badPort.status, codeOf(badPort.body)]).toEqual([400, 'invalid_host']);
    expect(badPort.head.toLowerCase()).toContain('connection: close');
    const backslash = await rawSocket(stack.gateway.port, `GET /a\\b HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\n`);
    expect([backslash.status, codeOf(backslash.body)]).toEqual([400, 'bad_request']);
    expect(backslash.head.toLowerCase()).toContain('connection: close');
    // Malformed request lines and headers Node's parser refuses are coded too.
    const garbage = await rawSocket(stack.gateway.port, `GET / HTTP/1.1\r\nHost: ${host()}\r\nBad Header\r\n\r\n`);
    expect([garbage.status, codeOf(garbage.body)]).toEqual([400, 'bad_request']);
    const huge = await rawSocket(stack.gateway.port, `GET / HTTP/1.1\r\nHost: ${host()}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect([huge.status, codeOf(huge.body)]).toEqual([431, 'headers_too_large']);
  });

  it('control: a backslash in the query and a Host with a valid port are served', async () => {
    const r = await rawSocket(stack.gateway.port, `GET /q?x=a\\b HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
  });
});
