/**
 * Threats: the reserved prefix /__gate/ reached by the app through spellings the router does not
 * match but an upstream normalises (`/__gate%2F…`, `//__gate/…`), and a path-scoped share link
 * walked out of its scope through segment tricks an upstream server interprets (`..;`, double
 * encoding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, cookieHeaderOf, type LaunchResult, type Stack } from '../support/stack.js';
import { rawSocket, startAttackRig, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;
let l: LaunchResult;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
  l = await stack.launch('bob', sbx, 3000);
});
afterAll(() => closeAll(stack, app));

/** What a lenient upstream (decode once, collapse slashes, `\` as `/`) makes of a path. */
function normalisedByUpstream(target: string): string {
  let p = target.split('?', 1)[0]!;
  try {
    p = decodeURIComponent(p);
  } catch {
    /* keep */
  }
  return p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
}

const rawGet = (path: string, extra = '') =>
  rawSocket(
    stack.gateway.port,
    `GET ${path} HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nCookie: ${l.cookieHeader}\r\nAccept: application/json\r\n${extra}Connection: close\r\n\r\n`,
  );

describe('reserved-path bypass', () => {
  it('encoded and case variants the router recognises are answered by the gateway (never forwarded)', async () => {
    app.clear();
    for (const p of [
      '/%5F_gate/launch',
      '/%5f%5fgate/sw.js',
      '/__gate',
      '/__gate/',
      '/__gate/nope',
      '/__gate/../__gate/x',
      '/x/..%2F__gate/status',
      '/__%67ate/status',
    ]) {
      const r = await rawGet(p);
      expect([p, r.status]).not.toEqual([p, 0]);
    }
    const reached = app.seen.map((s) => s.url).filter((u) => normalisedByUpstream(u).startsWith('/__gate'));
    expect(reached.filter((u) => !u.includes('%2F') && !u.includes('%2f'))).toEqual([]);
  });

  it('`/__gate%2F…` and `//__gate/…` (read as /__gate/… by many servers) are refused, never forwarded to the app', async () => {
    app.clear();
    const probes = ['/__gate%2Fsession', '/__gate%2fsw.js', '//__gate/sw.js', '/%2F__gate/launch', '/__gate%5Claunch'];
    for (const p of probes) await rawGet(p);
    const reached = app.seen.map((s) => s.url).filter((u) => normalisedByUpstream(u).startsWith('/__gate'));
    expect(reached).toEqual([]);
  });

  it("`/__GATE/` (another path: URL paths are case-sensitive) is the app's, and carries no gateway credential", async () => {
    app.clear();
    const r = await rawGet('/__GATE/session');
    expect(r.status).toBe(200);
    expect(app.dump()).not.toContain(l.grant.accessToken);
  });
});

describe('share path-scope escapes', () => {
  async function scopedCookie(path: string): Promise<{ cookie: string; token: string }> {
    const res = await stack.requestGateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 600, path }),
    });
    const url = new URL(res.json<{ url: string }>().url);
    const nav = await stack.requestPreview(sbx, 3000, url.pathname + url.search, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } });
    expect(nav.status).toBe(303);
    return { cookie: cookieHeaderOf(nav.setCookies), token: url.searchParams.get('__gate_share')! };
  }

  it('safe: double-dot, encoded dots/slashes/backslashes, and sibling prefixes stay outside /docs', async () => {
    const { cookie } = await scopedCookie('/docs');
    app.clear();
    for (const p of ['/docs/../x', '/docs/%2e%2e/x', '/docs/.%2E/x', '/docs%2F..%2Fx', '/docs\\..\\x', '/docs/..%5Cx', '/docsx', '/docs/%2fx']) {
      const r = await rawSocket(
        stack.gateway.port,
        `GET ${p} HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nCookie: ${cookie}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
      );
      // 400 for what Node/Hono refuse outright, 403 wrong_scope for the rest.
      expect([p, [400, 403].includes(r.status)]).toEqual([p, true]);
    }
    expect(app.seen.map((s) => s.url).filter((u) => !u.startsWith('/docs/') && u !== '/docs')).toEqual([]);
  });

  it('walking out of a /docs share scope with `..;` (Tomcat/Spring/Jetty path parameters) or double encoding is refused', async () => {
    const { cookie } = await scopedCookie('/docs');
    const escapes = ['/docs/..;/secret', '/docs/..;a=b/secret', '/docs/.;/..;/secret', '/docs/%252e%252e/secret', '/docs/%252e%252e%252fsecret'];
    const served: string[] = [];
    for (const p of escapes) {
      const r = await stack.requestPreview(sbx, 3000, p, { headers: { cookie, accept: 'application/json' } });
      if (r.status !== 403) served.push(`${p} -> ${r.status}`);
    }
    expect(served).toEqual([]);
  });
});
