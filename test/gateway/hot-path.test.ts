/**
 * The hot path's shortcuts are taken, and read exactly like what they replace (issue 9):
 * the forwarded request is a lightweight view (broker/core/forward-request.ts ForwardedRequest)
 * rather than a second fetch Request, for the usual methods; other methods still get the full
 * Request (and its method checks); the request URL is parsed once per request; the upstream URL
 * is split at a remembered origin. Counters prove the fast path so it cannot switch off silently.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { forwardRequest, forwardStats } from '../../broker/core/forward-request.js';
import { urlOf, urlStats } from '../../broker/core/request-host.js';
import { createNodeFetch, headStats, keepAliveHintOf, keepAliveStats, targetStats } from '../../broker/node/fetch-upstream.js';
import { headerListStats, HeaderList } from '../../broker/core/http/header-list.js';
import { startStack } from '../support/stack.js';
import { directStats } from '../../broker/core/gateway.js';
import { makeGateway } from './helpers.js';

describe('the forwarded request is a lightweight view', () => {
  it('a GET through the gateway reaches the upstream side as a view, credentials stripped', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const before = forwardStats.views;
    const res = await t.preview('/api/echo?x=1&__gate_share=abc', { headers: { 'x-daytona-preview-token': grant.accessToken, 'x-app': 'kept' } });
    expect(res.status).toBe(200);
    expect(forwardStats.views - before).toBe(1);
    const seen = t.upstream.seen.at(-1)!.request;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe(`${t.origin()}/api/echo?x=1`);
    expect(seen.headers.get('x-daytona-preview-token')).toBeNull();
    expect(seen.headers.get('x-app')).toBe('kept');
    expect(seen.headers.get('x-preview-gate-identity')).toBeTruthy();
    // Stripped into a HeaderList (broker/core/http/header-list.ts), not an undici Headers.
    expect(seen.headers).toBeInstanceOf(HeaderList);
    expect(seen.body).toBeNull();
    expect(seen.redirect).toBe('manual');
    expect(seen.signal).toBeInstanceOf(AbortSignal);
  });

  it('a POST body passes through the view; text() and clone() answer like a Request', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    let text = '';
    let cloned = '';
    t.upstream.respond = async (req) => {
      cloned = await req.clone().text();
      text = await req.text();
      return new Response('ok');
    };
    const before = forwardStats.views;
    const res = await t.preview('/upload', { method: 'POST', body: 'hello body', headers: { 'x-daytona-preview-token': grant.accessToken } });
    expect(res.status).toBe(200);
    expect(forwardStats.views - before).toBe(1);
    expect(cloned).toBe('hello body');
    expect(text).toBe('hello body');
  });

  it('a method outside the usual ones is built as a full Request (its checks apply), not as a view', () => {
    const before = forwardStats.views;
    const report = forwardRequest(new Request('http://3000-x.preview.localhost/', { method: 'REPORT' }), false, null);
    expect(report.method).toBe('REPORT');
    expect(report).toBeInstanceOf(Request);
    expect(forwardStats.views - before).toBe(0);
    expect(() => forwardRequest(new Request('http://3000-x.preview.localhost/', { method: 'POST' }), false, null)).not.toThrow();
    expect(forwardStats.views - before).toBe(1);
  });
});

describe('the request URL is parsed once (broker/core/request-host.ts urlOf)', () => {
  it('every step of a proxied request reads the router’s parse, and the request arrives as sent', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const before = urlStats.remembered;
    const forwardedBefore = urlStats.forwarded;
    const res = await t.preview('/a%20b/./c?q=%2F&__gate_share=x#frag', { headers: { 'x-daytona-preview-token': grant.accessToken } });
    // Positive control of parsedUrlOf: a URL the gateway changed (its query stripped) is parsed anew.
    expect(urlStats.forwarded - forwardedBefore).toBe(0);
    expect(res.status).toBe(200);
    // The guard, the proxy, authentication and the forwarded request (at least) read the same parse.
    expect(urlStats.remembered - before).toBeGreaterThanOrEqual(4);
    expect(t.upstream.seen.at(-1)!.request.url).toBe(`${t.origin()}/a%20b/c?q=%2F`);
  });

  it('positive control: a request the router never saw is parsed on the spot, not taken from another', () => {
    const before = urlStats.remembered;
    const url = urlOf(new Request('http://3000-x.preview.localhost/p?q=1'));
    expect(url.pathname).toBe('/p');
    expect(url.search).toBe('?q=1');
    expect(urlStats.remembered).toBe(before);
  });

  it('a remembered host classification answers for its own host only: another sandbox and an unknown host stay themselves', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const ok = await t.preview('/', { headers: { 'x-daytona-preview-token': grant.accessToken } });
    expect(ok.status).toBe(200);
    // The same token on another sandbox's host: refused (the classification of that host is its own).
    const other = await t.gw.fetch(new Request(`${t.origin('other-sandbox-1')}/`, { headers: { 'x-daytona-preview-token': grant.accessToken } }));
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('wrong_scope');
    const unknown = await t.gw.fetch(new Request('http://elsewhere.example/'));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    // Many distinct preview hosts (more than are remembered): each still classified as itself.
    for (let i = 0; i < 1100; i++) await t.gw.fetch(new Request(`http://${3000 + (i % 50)}-sbx${i}.preview.localhost:8787/`));
    const again = await t.preview('/', { headers: { 'x-daytona-preview-token': grant.accessToken } });
    expect(again.status).toBe(200);
  });
});

describe('the upstream URL is split at a remembered origin (broker/node/fetch-upstream.ts targetOf)', () => {
  it('the second request to an origin is not parsed whole, and the upstream sees exactly the parsed path and query', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetchUpstream = createNodeFetch();
    try {
      const paths = ['/first', '/a%20b/c?q=%2F&x=%E2%82%AC', '/x?'];
      for (const p of paths) {
        const url = new URL(p, base).href;
        const res = await fetchUpstream(new Request(url));
        expect(await res.text()).toBe('ok');
      }
      const before = targetStats.remembered;
      const res = await fetchUpstream(new Request(`${base}/again?y=1`));
      await res.text();
      expect(targetStats.remembered - before).toBe(1);
      expect(seen).toEqual(['/first', '/a%20b/c?q=%2F&x=%E2%82%AC', '/x?', '/again?y=1']);
      // Positive control: a URL with a fragment is parsed whole (the fragment never goes out).
      const withHash = targetStats.remembered;
      await (await fetchUpstream(new Request(`${base}/h?z=1#frag`))).text();
      expect(targetStats.remembered).toBe(withHash);
      expect(seen.at(-1)).toBe('/h?z=1');
    } finally {
      fetchUpstream.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("an idle upstream socket leaves before the upstream's keep-alive ends (fetch-upstream.ts honourKeepAliveHint)", () => {
  it('a socket idle past the hint less one second is not reused (a POST sent into the close would be reset); a busy one still is', async () => {
    const connections: number[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(String(connections.length)));
    });
    server.keepAliveTimeout = 2500; // Node answers `Keep-Alive: timeout=2`
    server.on('connection', () => connections.push(Date.now()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fetchUpstream = createNodeFetch();
    const post = async () => (await fetchUpstream(new Request(`${base}/api`, { method: 'POST', body: 'x' }))).text();
    try {
      const hinted = keepAliveStats.hinted;
      await post();
      // Positive control: right after an answer the socket is reused (one connection so far).
      await post();
      expect(connections.length).toBe(1);
      expect(keepAliveStats.hinted - hinted).toBe(2);
      // Idle 1.3 s: past the hint less one second (1 s), still inside the server's 2.5 s. Without
      // the hint honoured, Node 20's Agent keeps the socket and reuses it here.
      await new Promise((r) => setTimeout(r, 1300));
      await post();
      expect(connections.length).toBe(2);
    } finally {
      fetchUpstream.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a request whose framing is known goes out with its head written at once (fetch-upstream.ts headStats)', () => {
  it('a GET and a kept POST take the flat field list; the upstream sees every field, Host and Content-Length as sent', async () => {
    const seen: { method: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const fetchUpstream = createNodeFetch();
    const signal = new AbortController().signal;
    const url = `http://3000-abc.proxy.localhost:${port}/api?q=1`;
    try {
      const before = headStats.flat;
      const get = await fetchUpstream.send({ url, method: 'GET', headers: { 'x-app': 'a', accept: '*/*' }, body: null, signal });
      expect(await get.text()).toBe('ok');
      const body = new TextEncoder().encode('{"n":1}');
      const post = await fetchUpstream.send({ url, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '7' }, body, signal });
      expect(await post.text()).toBe('ok');
      expect(headStats.flat - before).toBe(2);
      expect(seen[0]).toMatchObject({ method: 'GET', body: '', headers: { host: `3000-abc.proxy.localhost:${port}`, 'x-app': 'a', accept: '*/*' } });
      expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
      expect(seen[1]).toMatchObject({ method: 'POST', body: '{"n":1}', headers: { host: `3000-abc.proxy.localhost:${port}`, 'content-length': '7' } });
      // Positive control: a kept body without its Content-Length among the fields, and a streamed
      // one, keep node:http's own framing (it adds Content-Length, or chunks), not the flat list.
      const flat = headStats.flat;
      await (await fetchUpstream.send({ url, method: 'PUT', headers: {}, body, signal })).text();
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(body);
          c.close();
        },
      });
      await (await fetchUpstream.send({ url, method: 'POST', headers: {}, body: stream, signal })).text();
      expect(headStats.flat).toBe(flat);
      expect(seen[2]).toMatchObject({ method: 'PUT', body: '{"n":1}', headers: { 'content-length': '7' } });
      expect(seen[3]).toMatchObject({ method: 'POST', body: '{"n":1}', headers: { 'transfer-encoding': 'chunked' } });
    } finally {
      fetchUpstream.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("the keep-alive hint is read from the answer's raw fields as Node reads it: the first field, any case", () => {
    expect(keepAliveHintOf(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5'])).toBe(5);
    expect(keepAliveHintOf(['keep-alive', 'timeout=2, max=100', 'KEEP-ALIVE', 'timeout=9'])).toBe(2);
    expect(keepAliveHintOf(['Keep-Alive', 'max=100, timeout=5'])).toBeUndefined();
    expect(keepAliveHintOf(['Connection', 'keep-alive'])).toBeUndefined();
    expect(keepAliveHintOf([])).toBeUndefined();
  });
});

describe('header sets of a proxied request are HeaderLists, not undici Headers (broker/core/http/header-list.ts)', () => {
  it("through the Node edge, the client's stripped headers and Daytona's answer are HeaderLists, and the answer arrives whole", async () => {
    const stack = await startStack();
    try {
      const l = await stack.launch('bob', stack.sandboxes.open, 3000);
      const warm = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { 'x-daytona-preview-token': l.grant.accessToken } });
      expect(warm.status).toBe(200);
      const before = headerListStats.made;
      const rawBefore = forwardStats.rawHeaders;
      const listsBefore = forwardStats.headerLists;
      const splitBefore = targetStats.split;
      const parsedBefore = urlStats.forwarded;
      const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo?h=1', {
        headers: { 'x-daytona-preview-token': l.grant.accessToken, 'x-app': 'kept' },
      });
      expect(res.status).toBe(200);
      // One for the client's headers as the edge lane's request view reads them (broker/node/edge-request.ts),
      // one for the request forwarded, one for Daytona's answer.
      expect(headerListStats.made - before).toBe(3);
      // The client's fields were read once from Node's raw list (the edge lane's request view) and
      // copied from that list, not through a Headers copy of them.
      expect(forwardStats.headerLists - listsBefore).toBe(1);
      expect(forwardStats.rawHeaders - rawBefore).toBe(0);
      // The upstream URL was split where the core said (the link's origin), not searched again.
      expect(targetStats.split - splitBefore).toBe(1);
      // The forwarded URL (unchanged) was not parsed a second time.
      expect(urlStats.forwarded - parsedBefore).toBe(1);
      expect(res.json<{ headers: Record<string, string> }>().headers['x-app']).toBe('kept');
      expect(res.json<{ headers: Record<string, string> }>().headers['x-daytona-preview-token']).toBeUndefined();
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    } finally {
      await stack.close();
    }
  });
});

describe("proxied preview requests skip Hono's router (broker/core/gateway.ts handle)", () => {
  it('an app request takes the direct path and gets what the router gave: request id, metrics, coded refusals', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const before = directStats.requests;
    const ok = await t.preview('/api/echo', { headers: { 'x-daytona-preview-token': grant.accessToken, 'x-request-id': 'trace-1' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('trace-1');
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe('trace-1');
    const refused = await t.preview('/api/echo');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('missing_credential');
    expect(refused.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(directStats.requests - before).toBe(2);
    expect(t.gw.metrics.render()).toMatch(/pg_http_requests_total{class="2xx",host="preview"} [1-9]/);
    expect(t.gw.metrics.render()).toMatch(/pg_http_requests_total{class="4xx",host="preview"} [1-9]/);
  });

  it('positive control: /__gate/ paths, the gateway origin and unknown hosts still go through the router', async () => {
    const t = await makeGateway();
    const before = directStats.requests;
    const status = await t.preview('/__gate/status');
    expect(status.status).not.toBe(502);
    const reserved = await t.preview('/%5F%5Fgate/anything');
    expect(reserved.status).toBe(404);
    const own = await t.gw.fetch(new Request('http://127.0.0.1:8787/healthz'));
    expect(own.status).toBe(200);
    expect(directStats.requests - before).toBe(0);
  });
});
