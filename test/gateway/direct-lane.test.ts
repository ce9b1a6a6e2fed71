/**
 * The Node edge's own lane (broker/node/direct-lane.ts): a request with one of the usual methods
 * for an app on a preview origin skips @hono/node-server's adapter and reaches the core as an
 * edge request view (edge-request.ts). Counters prove the lane is taken for those requests and
 * only for them, and the answers are what the core decides either way: the app's bytes with no
 * credential of ours or Daytona's in them, coded refusals (handed back to the adapter's writer),
 * bodyless answers, request bodies exact (small ones through the body source, large ones piped),
 * and an unread body drained so the connection serves the next request.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { laneStats } from '../../broker/node/direct-lane.js';
import { edgeRequestStats } from '../../broker/node/edge-request.js';
import { handoverStats } from '../../broker/node/handover.js';
import { bodySourceStats } from '../../broker/core/http/body-source.js';
import { createHash } from 'node:crypto';
import { authenticateStats } from '../../broker/core/authenticate.js';
import { headStats } from '../../broker/node/fetch-upstream.js';

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

/** One request (on its own connection unless `agent` says otherwise); `target` is sent as the request line's target, verbatim. */
function send(method: string, target: string, headers: Record<string, string>, body?: string | Buffer, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: stack.gateway.port, method, path: target, headers: { host, ...headers }, agent }, (res) => {
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

  it("a dev loop's repeated requests are decided at once (authenticateNow) and go upstream with their head written at once (headStats.flat)", async () => {
    const viaHeader = { 'x-daytona-preview-token': token };
    const viaCookie = { cookie: cookieHeader, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };
    // The first of each verifies the token (if nothing before did); the next ones find it remembered.
    await send('GET', '/api/echo', viaHeader);
    await send('GET', '/api/echo', viaCookie);
    const now = authenticateStats.now;
    const flat = headStats.flat;
    for (const headers of [viaHeader, viaCookie, viaHeader]) {
      const c = await counted(() => send('GET', '/api/echo?n=1', headers));
      expect(c).toMatchObject({ taken: 1, handedBack: 0, direct: 1 });
      expect(c.result.status).toBe(200);
    }
    expect(authenticateStats.now - now).toBe(3);
    expect(headStats.flat - flat).toBe(3);
    // Positive control: a request that carries an Authorization header of the app's takes the full chain.
    const authz = await send('GET', '/api/echo', { ...viaHeader, authorization: 'Bearer app' });
    expect(authz.status).toBe(200);
    expect((JSON.parse(authz.body) as { headers: Record<string, string> }).headers.authorization).toBe('Bearer app');
    expect(authenticateStats.now - now).toBe(3);
  });

  it('a request without a credential is refused in the lane, the coded answer written by the adapter', async () => {
    const c = await counted(() => send('GET', '/api/echo', { accept: 'application/json' }));
    expect(c).toMatchObject({ taken: 1, handedBack: 1, direct: 0 });
    expect(c.result.status).toBe(401);
    expect(JSON.parse(c.result.body)).toMatchObject({ error: { code: 'missing_credential' } });
    expect(c.result.headers['cache-control']).toBe('no-store');
    // Positive control: the same refusal outside the lane (a method it leaves alone) is the same coded answer.
    const report = await counted(() => send('REPORT', '/api/echo', { accept: 'application/json' }));
    expect(report.taken).toBe(0);
    expect(report.result.status).toBe(401);
    expect(JSON.parse(report.result.body)).toMatchObject({ error: { code: 'missing_credential' } });
    // A refused POST's body is never read: nothing of it reaches the app, and the connection goes on.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const post = await counted(() => send('POST', '/api/echo', { accept: 'application/json', 'content-type': 'text/plain' }, 'secret body', agent));
      expect(post).toMatchObject({ taken: 1, handedBack: 1 });
      expect(post.result.status).toBe(401);
      const next = await send('GET', '/api/echo', { 'x-daytona-preview-token': token }, undefined, agent);
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('a small POST takes the lane, its body read from the socket through the body source, exact', async () => {
    const body = JSON.stringify({ hello: 'world', pad: 'p'.repeat(300) });
    const reads = bodySourceStats.read;
    const c = await counted(() => send('POST', '/api/echo', { 'x-daytona-preview-token': token, 'content-type': 'application/json' }, body));
    expect(c).toMatchObject({ taken: 1, handedBack: 0, direct: 1 });
    expect(bodySourceStats.read - reads).toBe(1);
    const echo = JSON.parse(c.result.body) as { method: string; bodySize: number; bodySha256: string; headers: Record<string, string> };
    expect(echo.method).toBe('POST');
    expect(echo.bodySize).toBe(Buffer.byteLength(body));
    expect(echo.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(echo.headers['x-daytona-preview-token']).toBeUndefined();
  });

  it('a large PUT takes the lane and is piped socket to socket, every byte', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'z');
    const piped = handoverStats.requests;
    const c = await counted(() => send('PUT', '/api/echo', { 'x-daytona-preview-token': token, 'content-type': 'application/octet-stream' }, body));
    expect(c).toMatchObject({ taken: 1, direct: 1 });
    expect(handoverStats.requests - piped).toBe(1);
    const echo = JSON.parse(c.result.body) as { method: string; bodySize: number; bodySha256: string };
    expect(echo).toMatchObject({ method: 'PUT', bodySize: body.length, bodySha256: createHash('sha256').update(body).digest('hex') });
  });

  it('an upload the app answers without reading: the answer comes at once, and the connection never hangs', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const t0 = Date.now();
      const c = await counted(() =>
        send(
          'POST',
          '/status/204',
          { 'x-daytona-preview-token': token, 'content-type': 'application/octet-stream' },
          Buffer.alloc(2 * 1024 * 1024, 'u'),
          agent,
        ),
      );
      expect(c).toMatchObject({ taken: 1, bodyless: 1 });
      expect(c.result.status).toBe(204);
      expect(Date.now() - t0).toBeLessThan(400);
      // The rest of the body is drained (the connection goes on) or, when the upstream stops
      // taking it, the connection is closed after a bounded wait: the next request settles
      // either way, well within a second or two, never stuck behind the unread bytes.
      const t1 = Date.now();
      const next = await send('GET', '/api/echo', { 'x-daytona-preview-token': token }, undefined, agent).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      expect(Date.now() - t1).toBeLessThan(2000);
      expect([200, 'socket hang up']).toContain(next);
      // And a request after it is served.
      expect((await send('GET', '/api/echo', { 'x-daytona-preview-token': token }, undefined, agent)).status).toBe(200);
    } finally {
      agent.destroy();
    }
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

  it('what is not a usual method for an app stays out of the lane, and is answered as before', async () => {
    const report = await counted(() => send('REPORT', '/api/echo', { 'x-daytona-preview-token': token }));
    expect(report.taken).toBe(0);
    expect(report.result.status).toBe(200);
    expect(JSON.parse(report.result.body)).toMatchObject({ method: 'REPORT' });
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
