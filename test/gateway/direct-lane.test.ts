/**
 * The Node edge's own lane (broker/node/direct-lane.ts): a GET or HEAD for an app on a preview
 * origin skips @hono/node-server's adapter and reaches the core as an edge request view
 * (edge-request.ts). Counters prove the lane is taken for those requests and only for them, and
 * the answers are what the core decides either way: the app's bytes with no credential of ours
 * or Daytona's in them, coded refusals (handed back to the adapter's writer), redirects, HEAD.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { laneStats } from '../../broker/node/direct-lane.js';
import { edgeRequestStats } from '../../broker/node/edge-request.js';
import { handoverStats } from '../../broker/node/handover.js';

let stack: Stack;
let token: string;
let cookieHeader: string;
let host: string;

beforeAll(async () => {
  stack = await startStack();
  const l = await stack.launch('bob', stack.sandboxes.open, 3000);
  token = l.grant.accessToken;
  cookieHeader = l.cookieHeader;
  host = new URL(stack.previewOrigin(stack.sandboxes.open, 3000)).host;
});
afterAll(() => stack?.close());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection; `target` is sent as the request line's target, verbatim. */
function send(method: string, target: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: stack.gateway.port, method, path: target, headers: { host, ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the counters moved by while `fn` ran. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; taken: number; handedBack: number; views: number; direct: number; bodyless: number }> {
  const before = {
    taken: laneStats.taken,
    handedBack: laneStats.handedBack,
    views: edgeRequestStats.made,
    direct: handoverStats.responses,
    bodyless: handoverStats.bodyless,
  };
  const result = await fn();
  return {
    result,
    taken: laneStats.taken - before.taken,
    handedBack: laneStats.handedBack - before.handedBack,
    views: edgeRequestStats.made - before.views,
    direct: handoverStats.responses - before.direct,
    bodyless: handoverStats.bodyless - before.bodyless,
  };
}

describe('the Node edge lane takes GET and HEAD for apps on preview origins', () => {
  it('a GET with an access token takes the lane: the app answers, stripped of every credential', async () => {
    const c = await counted(() => send('GET', '/api/echo?x=1', { 'x-daytona-preview-token': token, 'x-app': 'kept' }));
    expect(c).toMatchObject({ taken: 1, handedBack: 0, views: 1, direct: 1 });
    const res = c.result;
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    expect(res.headers['x-request-id']).toBeTruthy();
    const echo = JSON.parse(res.body) as { path: string; headers: Record<string, string> };
    expect(echo.path).toBe('/api/echo');
    expect(echo.headers['x-app']).toBe('kept');
    expect(echo.headers['x-daytona-preview-token']).toBeUndefined();
    expect(echo.headers['x-preview-gate-identity']).toBeTruthy();
    expect(JSON.stringify(res.headers) + res.body).not.toContain(token);
    expect(JSON.stringify(res.headers) + res.body).not.toContain(stack.emulator.standardToken(stack.sandboxes.open));
  });

  it('a GET with the session cookies takes the lane; the cookies never reach the app', async () => {
    const c = await counted(() => send('GET', '/api/echo', { cookie: `${cookieHeader}; app=1`, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }));
    expect(c).toMatchObject({ taken: 1, handedBack: 0 });
    expect(c.result.status).toBe(200);
    const echo = JSON.parse(c.result.body) as { headers: Record<string, string> };
    expect(echo.headers.cookie).toBe('app=1');
  });

  it('a GET without a credential is refused in the lane, the coded answer written by the adapter', async () => {
    const c = await counted(() => send('GET', '/api/echo', { accept: 'application/json' }));
    expect(c).toMatchObject({ taken: 1, handedBack: 1, direct: 0 });
    expect(c.result.status).toBe(401);
    expect(JSON.parse(c.result.body)).toMatchObject({ error: { code: 'missing_credential' } });
    expect(c.result.headers['cache-control']).toBe('no-store');
    // Positive control: the same refusal outside the lane (a POST) is the same coded answer.
    const post = await counted(() => send('POST', '/api/echo', { accept: 'application/json', 'content-type': 'text/plain' }, 'x'));
    expect(post.taken).toBe(0);
    expect(post.result.status).toBe(401);
    expect(JSON.parse(post.result.body)).toMatchObject({ error: { code: 'missing_credential' } });
  });

  it('a forged or foreign token is refused in the lane as outside it', async () => {
    const forged = `${token.slice(0, -4)}AAAA`;
    const c = await counted(() => send('GET', '/api/echo', { 'x-daytona-preview-token': forged, accept: 'application/json' }));
    expect(c.taken).toBe(1);
    expect(c.result.status).toBe(401);
    expect(JSON.parse(c.result.body)).toMatchObject({ error: { code: 'invalid_token' } });
    expect(c.result.body).not.toContain('"path"');
  });

  it('a HEAD takes the lane and answers headers only, written by the lane itself', async () => {
    const c = await counted(() => send('HEAD', '/api/echo', { 'x-daytona-preview-token': token }));
    expect(c).toMatchObject({ taken: 1, handedBack: 0, bodyless: 1 });
    expect(c.result.status).toBe(200);
    expect(c.result.body).toBe('');
    expect(c.result.headers['x-request-id']).toBeTruthy();
    // Positive control: the GET of the same path has the body the HEAD's Content-Type announces.
    const get = await send('GET', '/api/echo', { 'x-daytona-preview-token': token });
    expect(get.headers['content-type']).toBe(c.result.headers['content-type']);
    expect(get.body.length).toBeGreaterThan(0);
  });

  it("the app's bodyless answers (304, 204) are written by the lane, headers as the app sent them", async () => {
    for (const code of [304, 204]) {
      const c = await counted(() => send('GET', `/status/${code}`, { 'x-daytona-preview-token': token }));
      expect(c, String(code)).toMatchObject({ taken: 1, handedBack: 0, bodyless: 1, direct: 0 });
      expect(c.result.status).toBe(code);
      expect(c.result.body).toBe('');
      expect(c.result.headers['content-type']).toBeUndefined(); // none added to an answer without a body
      expect(c.result.headers['x-request-id']).toBeTruthy();
      expect(c.result.headers['set-cookie'] ?? []).toEqual([]); // Daytona's own cookie never passes
    }
    // Positive control: a redirect with a body is piped (sendDirect), its Location as the app sent it.
    const c = await counted(() => send('GET', '/status/302', { 'x-daytona-preview-token': token }));
    expect(c).toMatchObject({ taken: 1, bodyless: 0, direct: 1 });
    expect(c.result.status).toBe(302);
    expect(c.result.headers.location).toBe('/');
    expect(JSON.parse(c.result.body)).toEqual({ status: 302 });
  });

  it('a disallowed method in the request line never reaches the lane nor the app', async () => {
    const c = await counted(() => send('TRACE', '/api/echo', { 'x-daytona-preview-token': token }));
    expect(c.taken).toBe(0);
    expect(c.result.status).toBe(405);
  });

  it('what is not a GET or HEAD for an app stays out of the lane, and is answered as before', async () => {
    const post = await counted(() => send('POST', '/api/echo', { 'x-daytona-preview-token': token, 'content-type': 'text/plain' }, 'body'));
    expect(post.taken).toBe(0);
    expect(post.result.status).toBe(200);
    // The gateway's reserved paths on a preview origin go to its router.
    const gate = await counted(() => send('GET', '/__gate/sw.js', {}));
    expect(gate.taken).toBe(0);
    expect(gate.result.status).toBe(200);
    // The gateway's own origin.
    const health = await counted(() => send('GET', '/healthz', { host: `127.0.0.1:${stack.gateway.port}` }));
    expect(health.taken).toBe(0);
    expect(health.result.status).toBe(200);
    // An absolute-form target is read by @hono/node-server (and refused: not a preview of ours).
    const absolute = await counted(() => send('GET', `http://${host}/api/echo`, { 'x-daytona-preview-token': token }));
    expect(absolute.taken).toBe(0);
  });

  it('a reserved path spelled differently is still the gateway’s, never the app’s', async () => {
    for (const path of ['/x/../__gate/sw.js', '/%5F_gate/whatever', '/a/..%2F__gate/x', '//__gate/x']) {
      const c = await counted(() => send('GET', path, { 'x-daytona-preview-token': token, accept: 'application/json' }));
      expect(c.result.body, path).not.toContain('"path"'); // the echo app's answer never comes back
      expect(c.direct, path).toBe(0);
    }
    // Positive control: the reserved prefix in the query only is the app's, through the lane.
    const c = await counted(() => send('GET', '/api/echo?next=/__gate/sw.js', { 'x-daytona-preview-token': token }));
    expect(c).toMatchObject({ taken: 1, direct: 1 });
    expect(c.result.body).toContain('"path":"/api/echo"');
  });
});
