/**
 * An app whose answer forbids framing (CSP `frame-ancestors 'self'`, as JupyterLab sends, or
 * `X-Frame-Options`) would show a blank frame in the embed. The launch page in the embed's frame
 * asks the app path first (sw/page/frame-policy.ts) and says `frame_refused` instead: the embed
 * dispatches `error` with that code, the frame shows "This app does not allow being embedded"
 * with an "Open in a new tab" button, and that button opens the app in a tab of its own.
 * Positive control: the same app's frameable path loads in the frame (`ready`). Chromium, a
 * plain host page on another site, third-party cookies blocked (the Playwright default).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';

let stack: BrowserStack;
let browser: Browser;
let app: { server: Server; url: string };
let site: { server: Server; origin: string; html: string };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** The sample app: `/` refuses framing like JupyterLab, `/xfo` by X-Frame-Options, `/open` does not. */
function startApp(): Promise<typeof app> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
    if (path === '/') headers['content-security-policy'] = "frame-ancestors 'self'";
    if (path === '/xfo') headers['x-frame-options'] = 'SAMEORIGIN';
    res.writeHead(200, headers).end(`<!doctype html><title>framing app</title><h1 id="app">framing app ${path}</h1>`);
  });
  return listen(server).then((url) => ({ server, url }));
}

function startSite(): Promise<typeof site> {
  const s = { server: createServer(), origin: '', html: '' };
  s.server.on('request', (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').searchParams.get('path') ?? '/';
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(s.html.replace('APP_PATH', path.replace(/[^a-z/]/g, '')));
  });
  return listen(s.server).then((origin) => Object.assign(s, { origin }));
}

beforeAll(async () => {
  [site, app] = await Promise.all([startSite(), startApp()]);
  [stack, browser] = await Promise.all([startBrowserStack({ extraOrigins: [site.origin] }), launchChromium()]);
  await stack.emulator.bindPort(stack.sandboxId, APP_PORT, { target: app.url });
  site.html = `<!doctype html><title>host</title>
<script src="${stack.gatewayUrl}/embed.js"></script>
<div style="height:400px"><preview-frame id="preview" sandbox="${stack.sandboxId}" port="${APP_PORT}" path="APP_PATH"></preview-frame></div>
<script>
  window.events = [];
  const el = document.getElementById('preview');
  for (const type of ['ready', 'waiting', 'expired', 'error']) el.addEventListener(type, (e) => events.push({ type, code: e.detail.code }));
  PreviewGate.configure({ getSession: async () => (await (await fetch('${stack.gatewayUrl}/api/demo/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'demo-user' }) })).json()).token });
</script>`;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  app?.server.close();
  site?.server.close();
});

type Recorded = { type: string; code: string };
const firstEvent = async (page: Page): Promise<Recorded> => {
  await page.waitForFunction(() => (window as unknown as { events: Recorded[] }).events.length > 0, undefined, { timeout: 30_000 });
  return (await page.evaluate(() => (window as unknown as { events: Recorded[] }).events))[0]!;
};
const previewFrame = (page: Page): Frame => {
  const f = page.frames().find((fr) => fr.url().startsWith(`${stack.previewOrigin}/`));
  if (!f) throw new Error('no preview frame');
  return f;
};

describe('an app that forbids framing is refused in the embed with a way out', () => {
  for (const [path, rule] of [
    ['/', "CSP frame-ancestors 'self'"],
    ['/xfo', 'X-Frame-Options: SAMEORIGIN'],
  ] as const) {
    it(`${rule}: \`error\` frame_refused, the frame says so, and "Open in a new tab" opens the app in a tab`, async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${site.origin}/?path=${encodeURIComponent(path)}`);
        expect(await firstEvent(page)).toEqual({ type: 'error', code: 'frame_refused' });
        const frame = previewFrame(page);
        // The frame stayed on the gateway's launch page: it never navigated to the app.
        expect(new URL(frame.url()).pathname).toBe('/__gate/launch');
        await frame.waitForSelector('text=This app does not allow being embedded.', { timeout: 10_000 });
        const opened = context.waitForEvent('page', { timeout: 30_000 });
        await frame.getByRole('button', { name: 'Open in a new tab' }).click();
        const tab = await opened;
        await tab.waitForURL(`${stack.previewOrigin}${path}`, { timeout: 30_000 });
        expect(await tab.locator('#app').textContent()).toBe(`framing app ${path}`);
      } finally {
        await context.close();
      }
    }, 120_000);
  }

  it('positive control: the same app on a path that allows framing loads in the frame (`ready`)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${site.origin}/?path=%2Fopen`);
      expect(await firstEvent(page)).toEqual({ type: 'ready', code: 'ok' });
      expect(await previewFrame(page).locator('#app').textContent()).toBe('framing app /open');
    } finally {
      await context.close();
    }
  }, 120_000);
});
