/**
 * Threat: dot segments that appear only after decoding (`..%2f`, `%2e%2e`, `%252e%252e`, `..;`)
 * make an upstream read a forwarded path as `/__gate/…` (Python's http.server, Tomcat, Jetty,
 * Spring), walk a path-scoped share link out of its scope, or put a launch's landing path under
 * the reserved prefix. One normalisation (broker/core/http/paths.ts) decides all three.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { rawSocket, startAttackRig, type Recorder } from './attack-support.js';
import { codeOf, shareToken } from './edge-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;
let l: LaunchResult;
let docs: string;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
  l = await stack.launch('bob', sbx, 3000);
  docs = await shareToken(stack, 'bob', sbx, 3000, '/docs');
}, 60_000);
afterAll(() => closeAll(stack, app));

const get = (path: string, credential = `Cookie: ${l.cookieHeader}\r\n`) =>
  rawSocket(
    stack.gateway.port,
    `GET ${path} HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\n${credential}Accept: application/json\r\nConnection: close\r\n\r\n`,
  );

/** Paths that some server reads as /__gate/… once it decodes and resolves dot segments. */
const RESERVED_AFTER_DECODING = [
  '/x/..%2f__gate/sw.js',
  '/x/%2e%2e%2f__gate/sw.js',
  '/x/%252e%252e/__gate/sw.js',
  '/x/..;/__gate/sw.js',
  '/x/y/..%2f..%2f__gate/session',
  '/x/..%5c__gate/sw.js',
  '/x/%252e%252e%252f__gate/sw.js',
  '/x/..%3b/__gate/sw.js',
  '/x/.;/../__gate/sw.js',
  '/x/..%252f__gate/status',
];

describe('one path normalisation before every decision', () => {
  it('paths that read as /__gate/ only after decoding and resolving dot segments are refused (404) and never forwarded', async () => {
    app.clear();
    for (const p of RESERVED_AFTER_DECODING) {
      const r = await get(p);
      expect([p, r.status, codeOf(r.body)]).toEqual([p, 404, 'not_found']);
    }
    expect(app.seen.map((s) => s.url)).toEqual([]);
  });

  it("`%2e%2e` segments, which the URL parser itself folds, are the gateway's own /__gate/ paths (never forwarded)", async () => {
    app.clear();
    for (const p of ['/x/%2e%2e/__gate/nope', '/x/.%2e/__gate/nope', '/x/%2E%2E/__gate/nope']) {
      const r = await get(p);
      expect([p, r.status, codeOf(r.body)]).toEqual([p, 404, 'not_found']);
    }
    expect(app.seen).toEqual([]);
  });

  it('control: dot segments and encodings that resolve outside /__gate/ are forwarded byte for byte', async () => {
    app.clear();
    const fine = ['/x/..%2fapp/page', '/x/y/%2e%2e%2fstatic/a.js', '/__gatex/a', '/a/__gate/b', '/x/..;/y', '/__GATE/sw.js', '/x/%252e%252e/docs'];
    for (const p of fine) {
      const r = await get(p);
      expect([p, r.status]).toEqual([p, 200]);
    }
    expect(app.seen.map((s) => s.url)).toEqual(fine);
  });

  it('a share link scoped to /docs is refused on paths that leave /docs after decoding (wrong_scope), and opens /docs itself', async () => {
    app.clear();
    for (const p of [
      '/docs/..%2fsecret',
      '/docs/%2e%2e/secret',
      '/docs/%252e%252e/secret',
      '/docs/..;/secret',
      '/docs/.%2e/secret',
      '/docs%2f..%2fsecret',
      '/docs/x/..%5c..%5csecret',
    ]) {
      const r = await get(`${p}?__gate_share=${docs}`, '');
      expect([p, r.status, codeOf(r.body)]).toEqual([p, 403, 'wrong_scope']);
    }
    expect(app.seen).toEqual([]);
    for (const p of ['/docs', '/docs/', '/docs/a/b.html']) {
      const r = await get(`${p}?__gate_share=${docs}`, '');
      expect([p, r.status]).toEqual([p, 200]);
    }
    expect(app.seen.map((s) => s.url)).toEqual(['/docs', '/docs/', '/docs/a/b.html']);
  });

  it('a launch whose landing path reads as /__gate/ after decoding is refused (400), a plain one is accepted', async () => {
    const session = await stack.mintUserSession('bob');
    const launch = (path: string) =>
      stack.requestGateway('/api/previews', {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sandboxId: sbx, port: 3000, path }),
      });
    for (const p of ['/x/..%2f__gate/sw.js', '/x/%252e%252e/__gate/sw.js', '/x/..;/__gate/sw.js', '/x/../__gate/launch', '/%5F_gate/launch']) {
      const r = await launch(p);
      expect([p, r.status, codeOf(r.text)]).toEqual([p, 400, 'bad_request']);
    }
    const ok = await launch('/x/../index.html?a=1');
    expect(ok.status).toBe(201);
  });

  it('WebSocket handshakes on such paths are refused (404) too', async () => {
    app.clear();
    const r = await rawSocket(
      stack.gateway.port,
      `GET /x/..%2f__gate/ws HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nCookie: ${l.cookieHeader}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect([r.status, codeOf(r.body)]).toEqual([404, 'not_found']);
    expect(app.seen).toEqual([]);
  });
});
