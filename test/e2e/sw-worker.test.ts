/**
 * The Service Worker and the bootstrap in a real Chromium, against a small fake gateway in this
 * file (no emulator, no broker): what the worker attaches, to which requests, how it renews,
 * retries and falls back. The full stack is covered by the other e2e files.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderErrorPage } from '../../sw/page/error-page.js';
import { renderLaunchPage } from '../../sw/page/launch-page.js';
import { launchChromium } from '../support/chromium.js';

// Launch codes as the gateway issues them (32 random bytes, base64url: 43 characters); the
// bootstrap refuses anything else as "not valid" before asking the gateway (sw/page/bootstrap.ts).
const GOOD_CODE = 'g'.repeat(43);
const SPENT_CODE = 's'.repeat(43);

interface Seen {
  path: string;
  method: string;
  token: string | null;
  via: string | null;
  body: string;
}

const ACCESS_TTL_MS = 2_500;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A fake gateway on a preview origin: header or cookie credentials, refresh, error pages. */
function fakeGateway() {
  const seen: Seen[] = [];
  const state = { refreshes: 0, sessions: 0, revoked: false, n: 0, swVersion: 1, cookieRefused: false };
  const access = new Map<string, number>(); // token → expiresAt
  const dist = (name: string) => readFileSync(new URL(`../../dist/${name}`, import.meta.url), 'utf8');

  const grant = () => {
    const accessToken = `acc-${++state.n}`;
    const expiresAt = Date.now() + ACCESS_TTL_MS;
    access.set(accessToken, expiresAt);
    return { accessToken, expiresAt, refreshToken: `ref-${state.n}`, refreshExpiresAt: Date.now() + 3_600_000 };
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = (req.headers['x-daytona-preview-token'] as string | undefined) ?? null;
    const cookie = /pg=1/.test(req.headers.cookie ?? '');
    const body = await readBody(req);
    if (!url.pathname.startsWith('/__gate/')) {
      seen.push({ path: url.pathname + url.search, method: req.method ?? '', token, via: (req.headers['x-preview-gate-via'] as string) ?? null, body });
    }
    switch (url.pathname) {
      case '/__gate/launch':
        res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
        return void res.end(renderLaunchPage({ cookieMode: 'lax' }));
      case '/__gate/bootstrap.js':
      case '/__gate/sw.js':
        res.writeHead(200, { 'content-type': 'text/javascript', 'service-worker-allowed': '/', 'cache-control': 'no-cache' });
        // swVersion changes the worker's bytes: the browser sees an update.
        return void res.end(dist(url.pathname.slice('/__gate/'.length)) + (url.pathname.endsWith('sw.js') ? `\n// v${state.swVersion}` : ''));
      case '/__gate/session': {
        const { code } = JSON.parse(body) as { code: string };
        if (code !== GOOD_CODE) return json(res, 401, { error: { code: 'invalid_code', message: 'Launch code unknown or used.' } });
        state.sessions++;
        return json(res, 200, grant(), { 'set-cookie': 'pg=1; Path=/; HttpOnly' });
      }
      case '/__gate/refresh':
        state.refreshes++;
        if (state.revoked) return json(res, 401, { error: { code: 'session_revoked', message: 'Revoked.' } });
        return json(res, 200, grant());
      case '/__gate/status':
        return json(res, 200, { authenticated: cookie && !state.revoked && !state.cookieRefused });
    }
    // The "app": token first, then cookie.
    if (state.revoked || (token && !access.has(token))) {
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(401, { 'content-type': 'text/html' });
        return void res.end(renderErrorPage({ code: 'session_revoked', message: 'Revoked.' }));
      }
      return json(res, 401, { error: { code: 'session_revoked', message: 'Revoked.' } });
    }
    if (token && access.get(token)! <= Date.now()) {
      return json(
        res,
        401,
        { error: { code: 'token_expired', message: 'Expired.' } },
        {
          'www-authenticate': 'Bearer error="invalid_token", error_description="token_expired"',
        },
      );
    }
    if (!token && !cookie) return json(res, 401, { error: { code: 'missing_credential', message: 'No credential.' } });
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: '/landing' });
      return void res.end();
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 50);
      return;
    }
    if (url.pathname === '/' || url.pathname === '/landing') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(`<!doctype html><title>app</title><h1 id="where">${url.pathname}</h1>`);
    }
    return json(res, 200, { path: url.pathname, method: req.method, token: Boolean(token), body });
  });
  return { server, seen, state };
}

describe('Service Worker in Chromium (fake gateway)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let gw: ReturnType<typeof fakeGateway>;
  let recorder: Server;
  const recorded: Record<string, string | undefined>[] = [];
  let origin = '';
  let recorderOrigin = '';

  beforeAll(async () => {
    gw = fakeGateway();
    const port = await listen(gw.server);
    origin = `http://3000-fake.preview.localhost:${port}`;
    recorder = createServer((req, res) => {
      recorded.push({ ...req.headers } as Record<string, string | undefined>);
      res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' });
      res.end('ok');
    });
    recorderOrigin = `http://127.0.0.1:${await listen(recorder)}`;
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    gw?.server.closeAllConnections();
    gw?.server.close();
    recorder?.close();
  });

  it('launch: takes the code out of the address bar, installs the worker and lands on the path', async () => {
    await page.goto(`${origin}/__gate/launch#code=${GOOD_CODE}&path=%2Flanding`);
    await page.waitForURL(`${origin}/landing`);
    expect(await page.textContent('#where')).toBe('/landing');
    expect(page.url()).not.toContain('code=');
    expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
    // The landing navigation itself went through the worker, with the token.
    const nav = gw.seen.find((s) => s.path === '/landing');
    expect(nav?.token).toMatch(/^acc-/);
    expect(nav?.via).toBe('worker');
  });

  it('same-origin fetch and POST carry the token; the body arrives', async () => {
    const out = await page.evaluate(async () => {
      const r = await fetch('/echo', { method: 'POST', body: 'hello-body', headers: { 'x-custom': '1' } });
      return r.json();
    });
    expect(out).toMatchObject({ token: true, method: 'POST', body: 'hello-body' });
  });

  it('never sends the token to another origin', async () => {
    recorded.length = 0;
    await page.evaluate(async (u) => {
      await fetch(`${u}/collect`, { method: 'POST', body: 'x', headers: { 'x-custom': '1' } });
      await fetch(`${u}/img`, { mode: 'no-cors' });
    }, recorderOrigin);
    expect(recorded.length).toBeGreaterThan(0);
    for (const headers of recorded) {
      expect(headers['x-daytona-preview-token']).toBeUndefined();
      expect(headers['x-preview-gate-via']).toBeUndefined();
    }
  });

  it('EventSource is not intercepted (cookie path), and still works', async () => {
    const got = await page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const es = new EventSource('/events');
          const data: string[] = [];
          es.onmessage = (e) => {
            data.push(e.data);
            if (data.length === 2) {
              es.close();
              resolve(data);
            }
          };
        }),
    );
    expect(got).toEqual(['one', 'two']);
    expect(gw.seen.filter((s) => s.path === '/events').every((s) => s.token === null)).toBe(true);
  });

  it('a navigation that redirects is followed by the browser, token on both hops', async () => {
    gw.seen.length = 0;
    await page.goto(`${origin}/redirect`);
    expect(page.url()).toBe(`${origin}/landing`);
    const navigations = gw.seen.filter((s) => s.path !== '/favicon.ico');
    expect(navigations.map((s) => [s.path, Boolean(s.token)])).toEqual([
      ['/redirect', true],
      ['/landing', true],
    ]);
  });

  it('an access token that expires mid-session is renewed once for concurrent requests, zero failures', async () => {
    const before = gw.state.refreshes;
    // Expired while idle: the next burst must renew once, and no request may fail.
    await page.waitForTimeout(ACCESS_TTL_MS + 200);
    const statuses = await page.evaluate(async () => {
      const rs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => fetch(`/echo?i=${i}`, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? `b${i}` : undefined })),
      );
      return rs.map((r) => r.status);
    });
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(gw.state.refreshes - before).toBe(1);
  });

  it('a restarted worker still has its tokens (IndexedDB)', async () => {
    // Stop the worker through the DevTools protocol; the next fetch starts a fresh one.
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    gw.seen.length = 0;
    const out = await page.evaluate(async () => (await fetch('/echo')).json());
    expect(out.token).toBe(true);
    await cdp.detach();
  });

  it('an updated worker takes over the open page (skipWaiting + clients.claim) and keeps its tokens', async () => {
    gw.state.swVersion++;
    const changed = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration('/');
      const before = navigator.serviceWorker.controller?.scriptURL;
      const takeover = new Promise<boolean>((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true });
        setTimeout(() => resolve(false), 5000);
      });
      await registration!.update();
      return { before: Boolean(before), tookOver: await takeover };
    });
    expect(changed).toEqual({ before: true, tookOver: true });
    const out = await page.evaluate(async () => (await fetch('/echo')).json());
    expect(out.token).toBe(true);
  });

  it('a hard reload bypasses the worker and still works through the cookie', async () => {
    gw.seen.length = 0;
    const cdp = await context.newCDPSession(page);
    await cdp.send('Page.reload', { ignoreCache: true });
    await page.waitForLoadState('load');
    expect(await page.textContent('#where')).toBe('/landing');
    expect(gw.seen.find((s) => s.path === '/landing')?.token).toBeNull();
    await cdp.detach();
  });

  it('revoked: renewal fails, tokens are cleared, the coded error page answers', async () => {
    gw.state.revoked = true;
    await page.waitForTimeout(ACCESS_TTL_MS);
    const r = await page.goto(`${origin}/landing`);
    expect(r?.status()).toBe(401);
    expect(await page.getAttribute('body', 'data-gate-code')).toBe('session_revoked');
    expect(await page.textContent('h1')).toContain('ended');
    gw.state.revoked = false;
  });

  it('no worker and no cookie (third-party storage refused): says so and offers a new tab', async () => {
    gw.state.cookieRefused = true;
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    try {
      const p = await ctx.newPage();
      await p.setContent(`<iframe src="${origin}/__gate/launch#code=${GOOD_CODE}&path=%2F"></iframe>`);
      const frame = await (await p.waitForSelector('iframe')).contentFrame();
      await frame!.waitForSelector('body[data-gate-code="storage_refused"]');
      expect(await frame!.textContent('h1')).toContain('blocked');
      expect(await frame!.textContent('button')).toBe('Open in a new tab');
    } finally {
      gw.state.cookieRefused = false;
      await ctx.close();
    }
  });

  it('an invalid launch code shows a failure page with a way out', async () => {
    const p = await context.newPage();
    await p.goto(`${origin}/__gate/launch#code=${SPENT_CODE}&path=%2F`);
    await p.waitForSelector('h1');
    expect(await p.textContent('h1')).toContain('expired');
    expect(await p.getAttribute('body', 'data-gate-code')).toBe('invalid_code');
    expect(p.url()).toBe(`${origin}/__gate/launch`);
    await p.close();
  });
});
