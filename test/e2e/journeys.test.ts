/**
 * Browser journeys beyond the matrix: revocation reported by the embed, share links in a fresh
 * context, a sandbox restart mid-session, the token never leaving its origin, the one-script-tag
 * integration on a plain page, and a hard reload. One browser (third-party cookies blocked, the
 * Playwright default), one stack for the file.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, openLaunch, startBrowserStack, type BrowserStack } from './browser-stack.js';
import { ALL_OK, fetchStatus, frameOn, inspectorResults } from './inspector.js';

/** Another site: records what reaches it, and serves a plain page that embeds a preview by script tag. */
function startOtherSite(): Promise<{ server: Server; origin: string; seen: IncomingHttpHeaders[]; setPage(html: string): void }> {
  const seen: IncomingHttpHeaders[] = [];
  let page = '';
  const server = createServer((req, res) => {
    if (req.url === '/plain') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(page);
    }
    seen.push(req.headers);
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'content-type': 'text/plain',
    });
    res.end('recorded');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ server, origin, seen, setPage: (html) => void (page = html) });
    }),
  );
}

let stack: BrowserStack;
let browser: Browser;
let other: Awaited<ReturnType<typeof startOtherSite>>;
/** A site the operator forgot to list in GATE_ALLOWED_ORIGINS. */
let unlisted: Awaited<ReturnType<typeof startOtherSite>>;

beforeAll(async () => {
  [other, unlisted] = await Promise.all([startOtherSite(), startOtherSite()]);
  [stack, browser] = await Promise.all([startBrowserStack({ extraOrigins: [other.origin] }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  other?.server.close();
  unlisted?.server.close();
});

async function withContext<T>(fn: (context: BrowserContext, page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await fn(context, await context.newPage());
  } finally {
    await context.close();
  }
}

const previewFrame = (page: Page): Frame => frameOn(page, stack.previewOrigin);

describe('browser journeys', () => {
  it('revoking the preview session cuts access, and the embed reports it (then relaunches on request)', async () => {
    await withContext(async (_context, page) => {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]');
      const frame = previewFrame(page);
      expect(await fetchStatus(frame)).toBe(200);
      // The host app keeps the frame down after a revocation: cancel the automatic relaunch.
      await page.evaluate(() => document.getElementById('preview')!.addEventListener('expired', (e) => e.preventDefault(), { once: true }));
      // Revoked elsewhere (the broker API, from Node): the frame still shows the app, which loses
      // access at once. (handle.revoke() also empties the frame: test/e2e/pages-chromium.test.ts.)
      const sid = await page.evaluate(() => (document.getElementById('preview') as unknown as { handle: { sessionId: string } }).handle.sessionId);
      expect((await stack.api('DELETE', `/api/previews/${sid}`)).status).toBe(204);
      expect(await fetchStatus(frame)).toBe(401);
      // The next navigation in the frame gets the gateway's coded page, which the embed reports.
      await frame.evaluate(() => location.reload());
      await previewFrame(page).waitForSelector('body[data-gate-code]');
      await page.waitForSelector('body[data-preview-state="expired"]');
      expect(await page.evaluate(() => document.body.dataset.lastCode)).toBe('session_revoked');
      expect(await previewFrame(page).getAttribute('body', 'data-gate-code')).toBe('session_revoked');
      // The way out: a new preview (a new launch link), working again.
      await page.click('#reload');
      await page.waitForSelector('body[data-preview-state="ready"]');
      expect(await inspectorResults(previewFrame(page))).toEqual(ALL_OK);
    });
  });

  it('a spent launch page in the frame (no code) shows its failure, and the embed relaunches by itself', async () => {
    await withContext(async (_context, page) => {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]');
      const states: string[] = [];
      await page.exposeFunction('recordState', (s: string) => void states.push(s));
      await page.evaluate(() => {
        const el = document.getElementById('preview')!;
        const record = (window as unknown as { recordState(s: string): void }).recordState;
        el.addEventListener('expired', (e) => record(`expired:${(e as CustomEvent).detail.code}`));
        el.addEventListener('ready', () => record('ready'));
      });
      await previewFrame(page).evaluate(() => (location.href = '/__gate/launch'));
      await page.waitForFunction(() => document.body.dataset.previewState === 'ready' && document.body.dataset.lastCode === 'invalid_code');
      expect(states).toEqual(['expired:invalid_code', 'ready']);
      expect(await inspectorResults(previewFrame(page))).toEqual(ALL_OK);
    });
  });

  it('the app in the frame cannot make the host mint sessions at will (a flood of relaunch messages)', async () => {
    await withContext(async (_context, page) => {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]');
      // Count the embed's mints (POST /api/previews) from here on.
      await page.evaluate(() => {
        const w = window as unknown as { mints: number };
        w.mints = 0;
        const original = window.fetch.bind(window);
        window.fetch = (input, init) => {
          const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
          if (url.endsWith('/api/previews') && init?.method === 'POST') w.mints++;
          return original(input, init);
        };
      });
      // The sandbox app's own script, on the preview origin inside the frame, speaks the protocol.
      await previewFrame(page).evaluate(() => {
        const post = (m: Record<string, unknown>) => parent.postMessage({ source: 'preview-gate', version: 1, ...m }, '*');
        for (let i = 0; i < 100; i++) post({ type: 'relaunch', target: 'frame' });
        for (let i = 0; i < 100; i++) {
          post({ type: 'error', code: i % 2 ? 'forbidden' : 'session_revoked', message: 'x'.repeat(1000) });
          post({ type: 'relaunch', target: 'frame' });
        }
      });
      await page.waitForTimeout(2000);
      const mints = await page.evaluate(() => (window as unknown as { mints: number }).mints);
      expect(mints).toBeGreaterThan(0); // the messages did arrive (and relaunches happened)...
      expect(mints).toBeLessThanOrEqual(3); // ...but no more than the per-minute cap
      expect(await page.evaluate(() => document.body.dataset.lastCode)).toBe('internal'); // "stopped relaunching"
    });
  });

  it('the demo host page creates, lists and revokes share links, and opens the preview in a new tab', async () => {
    await withContext(async (context, page) => {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]');
      await page.fill('#share-ttl', '120');
      await page.click('#share-create');
      const item = page.locator('#shares li').first();
      await item.waitFor();
      const href = await item.locator('a').getAttribute('href');
      expect(href).toContain('__gate_share=');
      const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#open-tab')]);
      await tab!.waitForURL(`${stack.previewOrigin}/`);
      expect(await inspectorResults(tab!)).toEqual(ALL_OK);
      await item.locator('button').click();
      await page.waitForFunction(() => document.querySelectorAll('#shares li').length === 0);
    });
  });

  it('a share link opens in a fresh browser context, and stops after revoke', async () => {
    const res = await stack.api('POST', '/api/shares', { sandboxId: stack.sandboxId, port: APP_PORT, ttlSeconds: 600 });
    expect(res.status).toBe(201);
    const share = (await res.json()) as { id: string; url: string };
    await withContext(async (_context, page) => {
      await page.goto(share.url);
      expect(await inspectorResults(page)).toEqual(ALL_OK);
      expect(page.url()).not.toContain('__gate_share');
      expect((await stack.api('DELETE', `/api/shares/${share.id}`)).status).toBe(204);
      const after = await page.reload();
      expect(after?.status()).toBe(401);
      expect(await page.getAttribute('body', 'data-gate-code')).toBe('share_revoked');
    });
  });

  it('a share link stops at its expiry', async () => {
    const res = await stack.api('POST', '/api/shares', { sandboxId: stack.sandboxId, port: APP_PORT, ttlSeconds: 60 });
    const share = (await res.json()) as { url: string };
    await withContext(async (_context, page) => {
      await page.goto(share.url);
      expect(await inspectorResults(page)).toEqual(ALL_OK);
      stack.advance(61_000);
      const after = await page.reload();
      expect(after?.status()).toBe(401);
      expect(await page.getAttribute('body', 'data-gate-code')).toMatch(/^(share_expired|invalid_session)$/);
    });
  });

  it('a sandbox restart mid-session recovers (worker path)', async () => {
    await withContext(async (_context, page) => {
      const { url } = await stack.launchUrl('/');
      await openLaunch(page, url, stack.host.url);
      await page.waitForURL(`${stack.previewOrigin}/`);
      expect(await inspectorResults(page)).toEqual(ALL_OK);
      await stack.emulator.stopSandbox(stack.sandboxId);
      expect(await fetchStatus(page)).toBe(503);
      // Restarting issues a new Daytona token: the gateway must pick it up by itself.
      await stack.emulator.startSandbox(stack.sandboxId);
      expect(await fetchStatus(page)).toBe(200);
      await page.reload();
      expect(await inspectorResults(page)).toEqual(ALL_OK);
    });
  });

  it('the worker never sends a token to another origin; a hard reload (no worker) still works', async () => {
    await withContext(async (context, page) => {
      const { url } = await stack.launchUrl('/');
      await openLaunch(page, url, stack.host.url);
      await page.waitForURL(`${stack.previewOrigin}/`);
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
      other.seen.length = 0;
      await page.evaluate(async (o) => {
        await fetch(`${o}/collect`, { method: 'POST', body: 'x', headers: { 'x-custom': '1' } });
        await fetch(`${o}/pixel`, { mode: 'no-cors' });
        await fetch(`${o}/with-credentials`, { credentials: 'include' }).catch(() => null);
      }, other.origin);
      expect(other.seen.length).toBeGreaterThanOrEqual(3);
      for (const headers of other.seen) {
        expect(headers['x-daytona-preview-token']).toBeUndefined();
        expect(headers['x-preview-gate-via']).toBeUndefined();
        expect(headers.cookie ?? '').not.toContain('__Host-pg-');
      }
      // Shift-reload bypasses the Service Worker: the cookie carries the request.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Page.reload', { ignoreCache: true });
      await page.waitForLoadState('load');
      expect(await inspectorResults(page)).toEqual(ALL_OK);
    });
  });

  it('one script tag on a plain page of another site: <preview-frame> and PreviewGate.mount', async () => {
    other.setPage(`<!doctype html><title>plain</title>
<script src="${stack.gatewayUrl}/embed.js"></script>
<preview-frame id="declarative" sandbox="${stack.sandboxId}" port="${APP_PORT}" path="/" style="height:300px"></preview-frame>
<div id="imperative" style="height:300px"></div>
<script>
  const getSession = async () => (await (await fetch('${stack.gatewayUrl}/api/demo/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'plain-user' }) })).json()).token;
  window.events = [];
  document.getElementById('declarative').addEventListener('ready', (e) => events.push(['declarative', e.detail.credentialPath]));
  PreviewGate.configure({ getSession });
  const el = document.getElementById('imperative');
  el.addEventListener('ready', (e) => events.push(['imperative', e.detail.credentialPath]));
  window.handle = PreviewGate.mount(el, { sandboxId: '${stack.sandboxId}', port: ${APP_PORT}, path: '/', getSession });
</script>`);
    await withContext(async (_context, page) => {
      await page.goto(`${other.origin}/plain`);
      await page.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length === 2, undefined, { timeout: 20_000 });
      const events = await page.evaluate(() => (window as unknown as { events: string[][] }).events);
      expect(events.map((e) => e[1])).toEqual(['cookie', 'cookie']); // cross-site iframes, third-party cookies blocked
      const frames = page.frames().filter((f) => f.url().startsWith(stack.previewOrigin));
      expect(frames).toHaveLength(2);
      for (const f of frames) expect(await inspectorResults(f)).toEqual(ALL_OK);
      expect(await page.evaluate(() => (window as unknown as { handle: { credentialPath: string } }).handle.credentialPath)).toBe('cookie');
    });
  });

  it('an embed on a page whose origin is not in GATE_ALLOWED_ORIGINS reports origin_forbidden naming that origin (not a bare network error)', async () => {
    const token = await stack.sessionToken('plain-user');
    const page = (origin: string) => `<!doctype html><title>plain</title>
<script src="${stack.gatewayUrl}/embed.js"></script>
<div id="imperative" style="height:300px"></div>
<script>
  window.events = [];
  const el = document.getElementById('imperative');
  el.addEventListener('ready', (e) => events.push(['ready', e.detail.credentialPath]));
  el.addEventListener('error', (e) => events.push(['error', e.detail.code, e.detail.message]));
  PreviewGate.mount(el, { sandboxId: '${stack.sandboxId}', port: ${APP_PORT}, path: '/', getSession: async () => '${token}' });
</script>`;
    other.setPage(page(other.origin));
    unlisted.setPage(page(unlisted.origin));
    await withContext(async (_context, p) => {
      // Positive control: the listed origin gets its preview.
      await p.goto(`${other.origin}/plain`);
      await p.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length > 0, undefined, { timeout: 20_000 });
      expect((await p.evaluate(() => (window as unknown as { events: string[][] }).events))[0]?.[0]).toBe('ready');
      // The unlisted origin: a coded error that says what to fix.
      await p.goto(`${unlisted.origin}/plain`);
      await p.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length > 0, undefined, { timeout: 20_000 });
      const [kind, code, message] = (await p.evaluate(() => (window as unknown as { events: string[][] }).events))[0]!;
      expect([kind, code]).toEqual(['error', 'origin_forbidden']);
      expect(message).toContain(unlisted.origin);
      expect(message).toContain('GATE_ALLOWED_ORIGINS');
    });
  });
});
