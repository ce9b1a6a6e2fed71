/**
 * The preview proxy's other rules, over raw HTTP: CORS preflights (answered before auth,
 * never forwarded) and X-Daytona-Disable-CORS, the warning interstitial and its skips,
 * sandbox state (stopped 400, unbound 502, deleted 404), forwarding headers, bad hosts and
 * ports, and the API's auth and error shapes, including injected API faults.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { proxyRequest, rawRequest } from './proxy-request.js';

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';

let emu: Emulator;
let id: string;
let token: string;
let url: string;
/** A plain app that records every request it receives, to prove what never reaches a sandbox. */
let recorder: Server;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  recorder = createServer((req, res) => {
    seen.push(req);
    if (req.url === '/connection-named') {
      // An app naming one of its own response headers as hop-by-hop (RFC 9110 §7.6.1).
      res.writeHead(200, { connection: 'x-private-hop', 'x-private-hop': 'hop-only', 'x-kept': 'yes' });
      return void res.end('named');
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': 'https://app.example' });
    res.end('recorded');
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  ({ id } = await emu.createSandbox({ ports: { 5173: { target: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}` } } }));
  token = emu.standardToken(id);
  url = emu.previewUrl(id, 3000);
});
afterAll(async () => {
  await emu.close();
  await new Promise((resolve) => recorder.close(resolve));
});

const auth = { 'x-daytona-preview-token': '' };
beforeAll(() => {
  auth['x-daytona-preview-token'] = token;
});

describe('CORS', () => {
  it('an OPTIONS preflight is answered 204 before auth, echoing Origin and what was asked, and never reaches the app', async () => {
    const before = seen.length;
    const res = await proxyRequest(emu.previewUrl(id, 5173), '/api/data', {
      method: 'OPTIONS',
      headers: { origin: 'https://ide.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-custom, content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://ide.example');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toContain('PUT');
    expect(res.headers['access-control-allow-headers']).toBe('x-custom, content-type');
    expect(seen.length).toBe(before);
  });

  it("normal answers echo the Origin with credentials (duplicating an app's own header, as Daytona does)", async () => {
    const res = await proxyRequest(emu.previewUrl(id, 5173), '/', { headers: { ...auth, origin: 'https://ide.example' } });
    expect(res.status).toBe(200);
    const acao = res.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i]?.toLowerCase() === 'access-control-allow-origin');
    expect(acao).toHaveLength(2);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    // Error answers made by the proxy carry it too, so a browser can read them.
    expect((await proxyRequest(url, '/', { headers: { origin: 'https://ide.example' } })).headers['access-control-allow-origin']).toBe('https://ide.example');
  });

  it('X-Daytona-Disable-CORS: true turns CORS off: preflights reach the app, no header is added, and the header is stripped', async () => {
    const before = seen.length;
    const pre = await proxyRequest(emu.previewUrl(id, 5173), '/', {
      method: 'OPTIONS',
      headers: { ...auth, origin: 'https://ide.example', 'x-daytona-disable-cors': 'true' },
    });
    expect(pre.status).toBe(200);
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)?.method).toBe('OPTIONS');
    expect(seen.at(-1)?.headers['x-daytona-disable-cors']).toBeUndefined();
    const get = await proxyRequest(url, '/api/echo', { headers: { ...auth, origin: 'https://ide.example', 'x-daytona-disable-cors': 'true' } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    expect(get.json().headers['x-daytona-disable-cors']).toBeUndefined();
  });
});

describe('warning interstitial', () => {
  it('is served (200 HTML) to browsers before auth, and its acceptance sets the cookie and redirects', async () => {
    const res = await proxyRequest(url, '/page?x=1', { headers: { 'user-agent': BROWSER_UA } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.text()).toContain('daytona-preview-warning');
    const accept = await proxyRequest(url, `/accept-daytona-preview-warning?redirect=${encodeURIComponent('/page?x=1')}`, {
      method: 'POST',
      headers: { 'user-agent': BROWSER_UA },
    });
    expect(accept.status).toBe(302);
    expect(accept.headers.location).toBe('/page?x=1');
    expect(String(accept.headers['set-cookie'])).toContain('daytona-preview-page-accepted=true');
    // Not an open redirect.
    const evil = await proxyRequest(url, '/accept-daytona-preview-warning?redirect=//evil.example/', { method: 'POST' });
    expect(evil.headers.location).toBe('/');
  });

  it('is skipped for the skip header, the acceptance cookie, reserved ports and non-browsers', async () => {
    const browser = { 'user-agent': BROWSER_UA };
    expect((await proxyRequest(url, '/api/echo', { headers: { ...browser, ...auth, 'x-daytona-skip-preview-warning': 'true' } })).status).toBe(200);
    expect((await proxyRequest(url, '/api/echo', { headers: { ...browser, ...auth, cookie: 'daytona-preview-page-accepted=true' } })).status).toBe(200);
    expect((await proxyRequest(emu.previewUrl(id, 22222), '/', { headers: browser })).status).toBe(307);
    expect((await proxyRequest(url, '/api/echo', { headers: { 'user-agent': 'curl/8.0', ...auth } })).status).toBe(200);
  });

  it('can be switched off per emulator', async () => {
    const quiet = await startEmulator({ port: 0, warningPage: false });
    try {
      const { id: qid } = await quiet.createSandbox();
      const res = await proxyRequest(quiet.previewUrl(qid, 3000), '/api/echo', {
        headers: { 'user-agent': BROWSER_UA, 'x-daytona-preview-token': quiet.standardToken(qid) },
      });
      expect(res.status).toBe(200);
      expect(res.json().path).toBe('/api/echo');
    } finally {
      await quiet.close();
    }
  });
});

describe('forwarding', () => {
  it('the app sees Host: localhost:{port}, and X-Forwarded-Host is appended to an existing one', async () => {
    const res = await proxyRequest(emu.previewUrl(id, 8080), '/api/echo', { headers: { ...auth, 'x-forwarded-host': 'upstream.example' } });
    const echo = res.json();
    expect(echo.headers.host).toBe('localhost:8080');
    expect(echo.headers['x-forwarded-host']).toBe(`upstream.example, 8080-${id}.proxy.localhost:${emu.port}`);
    const plain = (await proxyRequest(url, '/api/echo', { headers: auth })).json();
    expect(plain.headers['x-forwarded-host']).toBe(`3000-${id}.proxy.localhost:${emu.port}`);
  });

  it('passes statuses, redirects and bodies through unchanged', async () => {
    const notModified = await proxyRequest(url, '/status/304', { headers: auth });
    expect(notModified.status).toBe(304);
    const redirect = await proxyRequest(url, '/status/302', { headers: auth });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/');
    const body = JSON.stringify({ hello: 'world' });
    const post = await proxyRequest(url, '/api/echo', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    expect(post.json()).toMatchObject({ method: 'POST', bodySize: body.length });
  });

  it('a socket the app destroys mid-answer is not disguised as a complete response', async () => {
    await expect(proxyRequest(url, '/fail', { headers: auth })).rejects.toThrow();
  });
});

describe('hop-by-hop answers', () => {
  it('a response header the app names in Connection does not travel past the proxy; others do', async () => {
    const res = await proxyRequest(emu.previewUrl(id, 5173), '/connection-named', { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers['x-private-hop']).toBeUndefined();
    expect(res.headers['x-kept']).toBe('yes');
  });
});

describe('sandbox state', () => {
  it('a port nothing listens on gets a bare 502', async () => {
    const res = await proxyRequest(emu.previewUrl(id, 5000), '/', { headers: auth });
    expect(res.status).toBe(502);
    expect(res.body.length).toBe(0);
  });

  it('a stopped sandbox gets 400 "no IP address found. Is the Sandbox started?"; started again it serves', async () => {
    const s = await emu.createSandbox();
    const t = emu.standardToken(s.id);
    await emu.stopSandbox(s.id);
    const res = await proxyRequest(emu.previewUrl(s.id, 3000), '/api/echo', { headers: { 'x-daytona-preview-token': t } });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST', message: 'bad request: no IP address found. Is the Sandbox started?' });
    await emu.startSandbox(s.id);
    const t2 = emu.standardToken(s.id);
    expect(t2).not.toBe(t);
    expect((await proxyRequest(emu.previewUrl(s.id, 3000), '/api/echo', { headers: { 'x-daytona-preview-token': t2 } })).status).toBe(200);
  });

  it('an unknown sandbox id gets the 307 of any failed authentication (no existence oracle); bindPort rebinds a port live', async () => {
    const unknown = await proxyRequest(emu.previewUrl('00000000-0000-4000-8000-000000000001', 3000), '/', { headers: auth });
    expect(unknown.status).toBe(307);
    expect(unknown.headers.location).toContain('/idp/authorize?');
    await emu.bindPort(id, 5000, 'inspector');
    expect((await proxyRequest(emu.previewUrl(id, 5000), '/api/echo', { headers: auth })).status).toBe(200);
    await emu.bindPort(id, 5000, null);
    expect((await proxyRequest(emu.previewUrl(id, 5000), '/api/echo', { headers: auth })).status).toBe(502);
  });
});

describe('hosts and ports', () => {
  it('an unparsable host serves only /health', async () => {
    for (const host of [`proxy.localhost:${emu.port}`, `abc-${id}.proxy.localhost:${emu.port}`, `127.0.0.1:${emu.port}`]) {
      const health = await rawRequest({ port: emu.port, host, path: '/health' });
      expect(health.status).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', version: expect.any(String) });
      const other = await rawRequest({ port: emu.port, host, path: '/' });
      expect(other.status).toBe(404);
    }
  });

  it('ports 0 and 65536 in the host are rejected with 400', async () => {
    for (const port of [0, 65536]) {
      const res = await rawRequest({ port: emu.port, host: `${port}-${id}.proxy.localhost:${emu.port}`, path: '/', headers: auth });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', message: 'bad request: Invalid port' });
    }
  });
});

describe('API auth and errors', () => {
  const api = (path: string, init: RequestInit = {}) => fetch(`${emu.apiUrl}${path}`, init);
  const key = { authorization: '' };
  beforeAll(() => {
    key.authorization = `Bearer ${emu.apiKey}`;
  });

  it("a missing or invalid API key gets 401 in NestJS's error shape", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: emu.apiKey }];
    for (const headers of attempts) {
      const res = await api(`/sandbox/${id}`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        path: `/api/sandbox/${id}`,
        timestamp: expect.any(String),
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Unauthorized',
      });
    }
  });

  it('unknown sandbox → 404; ports 0, 65536 and non-numeric → 400 "Invalid port"; TTL out of 1-86400 → 400', async () => {
    const missing = await api('/sandbox/nope', { headers: key });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    for (const port of ['0', '65536', 'abc']) {
      const res = await api(`/sandbox/${id}/ports/${port}/preview-url`, { headers: key });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Invalid port' });
    }
    for (const ttl of ['0', '86401', '-5', '1.5', 'x']) {
      expect((await api(`/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=${ttl}`, { headers: key })).status).toBe(400);
    }
    expect((await api(`/sandbox/${id}/toolbox-proxy-url`, { headers: key })).status).toBe(200);
  });

  it('setApiFault makes the API fail (status, then dropped connections) while the proxy keeps serving', async () => {
    emu.setApiFault({ status: 503 });
    try {
      const res = await api(`/sandbox/${id}`, { headers: key });
      expect(res.status).toBe(503);
      expect((await proxyRequest(url, '/api/echo', { headers: auth })).status).toBe(200);
      emu.setApiFault('refuse');
      await expect(api(`/sandbox/${id}`, { headers: key })).rejects.toThrow();
      expect((await proxyRequest(url, '/api/echo', { headers: auth })).status).toBe(200);
    } finally {
      emu.setApiFault(null);
    }
    expect((await api(`/sandbox/${id}`, { headers: key })).status).toBe(200);
  });
});
