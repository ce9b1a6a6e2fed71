/**
 * The embed learns that its preview session ended even while the app in the frame never
 * navigates: the session is revoked from elsewhere (here: the broker API called from Node, as
 * an admin or another tab would), and the host page gets `expired` from the embed's status
 * check (GET /api/previews/{id}, every `statusIntervalMs`). Chromium with third-party cookies
 * blocked (the Playwright default); the host page is a plain page on another site.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';
import { fetchStatus, frameOn, inspectorResults, ALL_OK } from './inspector.js';

const STATUS_INTERVAL_MS = 300;

interface Recorded {
  type: string;
  code: string;
  sessionId: string | null;
  at: number;
}

let stack: BrowserStack;
let browser: Browser;
let site: { server: Server; origin: string; html: string };

function startSite(): Promise<typeof site> {
  const s = { server: createServer(), origin: '', html: '' };
  s.server.on('request', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(s.html);
  });
  return new Promise((resolve) =>
    s.server.listen(0, '127.0.0.1', () => {
      s.origin = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
      resolve(s);
    }),
  );
}

beforeAll(async () => {
  site = await startSite();
  [stack, browser] = await Promise.all([startBrowserStack({ extraOrigins: [site.origin] }), launchChromium()]);
  // The same user as `stack.api` (demo-user), so Node can revoke the embed's session as its owner.
  site.html = `<!doctype html><title>host</title>
<script src="${stack.gatewayUrl}/embed.js"></script>
<div id="preview" style="height:300px"></div>
<script>
  const getSession = async () => (await (await fetch('${stack.gatewayUrl}/api/demo/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'demo-user' }) })).json()).token;
  window.events = [];
  window.keepDown = false;
  const el = document.getElementById('preview');
  for (const type of ['ready', 'expired', 'error']) {
    el.addEventListener(type, (e) => {
      events.push({ type, code: e.detail.code, sessionId: e.detail.sessionId, at: Date.now() });
      if (type === 'expired' && window.keepDown) e.preventDefault();
    });
  }
  window.handle = PreviewGate.mount(el, { sandboxId: '${stack.sandboxId}', port: ${APP_PORT}, path: '/', getSession, statusIntervalMs: ${STATUS_INTERVAL_MS} });
</script>`;
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  site?.server.close();
});

async function withPage<T>(fn: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await fn(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

const events = (page: Page) => page.evaluate(() => (window as unknown as { events: Recorded[] }).events);
const sessionIdOf = (page: Page) => page.evaluate(() => (window as unknown as { handle: { sessionId: string } }).handle.sessionId);

async function readyPreview(page: Page): Promise<string> {
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => (window as unknown as { events: Recorded[] }).events.some((e) => e.type === 'ready'), undefined, { timeout: 20_000 });
  expect(await inspectorResults(frameOn(page, stack.previewOrigin))).toEqual(ALL_OK);
  return sessionIdOf(page);
}

describe('the embed reports a session revoked elsewhere', () => {
  it('revoked through the broker API from Node: `expired` (session_revoked) within ~2 s, no navigation in the frame; cancelled → no relaunch', async () => {
    await withPage(async (page) => {
      const sessionId = await readyPreview(page);
      await page.evaluate(() => void ((window as unknown as { keepDown: boolean }).keepDown = true));
      const frame = frameOn(page, stack.previewOrigin);
      let navigations = 0;
      page.on('framenavigated', (f) => {
        if (f !== page.mainFrame()) navigations++;
      });
      let mints = 0;
      page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith('/api/previews')) mints++;
      });
      const before = (await events(page)).length;

      const t0 = Date.now();
      expect((await stack.api('DELETE', `/api/previews/${sessionId}`)).status).toBe(204);
      await page.waitForFunction((n) => (window as unknown as { events: Recorded[] }).events.length > n, before, { timeout: 2_000 });
      const expired = (await events(page)).slice(before);
      expect(expired).toHaveLength(1);
      expect(expired[0]).toMatchObject({ type: 'expired', code: 'session_revoked', sessionId });
      const elapsed = expired[0]!.at - t0;
      console.log(`revoke → expired: ${elapsed} ms (statusIntervalMs ${STATUS_INTERVAL_MS})`);
      expect(elapsed).toBeLessThan(2_000);
      expect(navigations).toBe(0); // learnt without the frame navigating

      // Access is cut, and the cancelled event keeps the frame down: no new session, no new event.
      expect(await fetchStatus(frame)).toBe(401);
      await page.waitForTimeout(STATUS_INTERVAL_MS * 5);
      expect(mints).toBe(0);
      expect(await sessionIdOf(page)).toBe(sessionId);
      expect((await events(page)).slice(before)).toHaveLength(1);
      expect(navigations).toBe(0);
    });
  });

  it('not cancelled: the embed relaunches a new session by itself', async () => {
    await withPage(async (page) => {
      const sessionId = await readyPreview(page);
      const before = (await events(page)).length;
      expect((await stack.api('DELETE', `/api/previews/${sessionId}`)).status).toBe(204);
      await page.waitForFunction((n) => (window as unknown as { events: Recorded[] }).events.slice(n).some((e) => e.type === 'ready'), before, {
        timeout: 20_000,
      });
      const after = (await events(page)).slice(before);
      expect(after.map((e) => [e.type, e.code])).toEqual([
        ['expired', 'session_revoked'],
        ['ready', 'ok'],
      ]);
      const fresh = await sessionIdOf(page);
      expect(fresh).not.toBe(sessionId);
      expect(await inspectorResults(frameOn(page, stack.previewOrigin))).toEqual(ALL_OK);
    });
  });
});
