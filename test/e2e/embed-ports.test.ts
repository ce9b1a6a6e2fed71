/**
 * The embed's `ports` option (ARCHITECTURE.md flow 16, docs/interface.md "Embed"): a
 * `<preview-frame ports="3000 8000">` on a plain host page of another site launches the two-port
 * sample app (demo/sandbox-apps/two-port/server.ts) with one grant for both ports, and the
 * frontend's calls to its API on 8000 are authenticated. Chromium with third-party cookies
 * blocked (the Playwright default): the cookie path, where a request sent WITHOUT credentials
 * carries nothing and is the one named refusal (test/e2e/multi-port.test.ts).
 * Control: the same element without `ports` grants 3000 only, so the API on 8000 refuses the
 * credentialed request (401) and the WebSocket.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoPortApp, TWO_PORT_API, TWO_PORT_FRONTEND, type TwoPortApp } from '../../demo/sandbox-apps/two-port/server.js';
import { launchChromium } from '../support/chromium.js';
import { startBrowserStack, type BrowserStack } from './browser-stack.js';

type Results = Record<string, { status: number; body: unknown }>;

let stack: BrowserStack;
let browser: Browser;
let app: TwoPortApp;
let site: { server: Server; origin: string; html: string };

function startSite(): Promise<typeof site> {
  const s = { server: createServer(), origin: '', html: '' };
  s.server.on('request', (req, res) => {
    // `/?ports=…` puts that attribute on the element; `/` leaves it out.
    const ports = new URL(req.url ?? '/', 'http://x').searchParams.get('ports');
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(s.html.replace('PORTS_ATTR', ports ? `ports="${ports.replace(/[^0-9 ,]/g, '')}"` : ''));
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
  [stack, browser, app] = await Promise.all([startBrowserStack({ extraOrigins: [site.origin] }), launchChromium(), startTwoPortApp()]);
  await stack.emulator.bindPort(stack.sandboxId, TWO_PORT_FRONTEND, { target: app.frontendUrl });
  await stack.emulator.bindPort(stack.sandboxId, TWO_PORT_API, { target: app.apiUrl });
  site.html = `<!doctype html><title>host</title>
<script src="${stack.gatewayUrl}/embed.js"></script>
<div style="height:400px"><preview-frame id="preview" sandbox="${stack.sandboxId}" port="${TWO_PORT_FRONTEND}" PORTS_ATTR></preview-frame></div>
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
  await app?.close();
  site?.server.close();
});

/** Opens the host page, waits for the embed's `ready` and the app's checks; returns them. */
async function checksThroughEmbed(page: Page, query: string): Promise<{ results: Results; events: { type: string; code: string }[] }> {
  await page.goto(`${site.origin}/${query}`);
  await page.waitForFunction(() => (window as unknown as { events: { type: string }[] }).events.some((e) => e.type === 'ready'), undefined, {
    timeout: 30_000,
  });
  const frame = await waitForFrame(page);
  await frame.waitForFunction(() => document.body?.dataset.done === 'true', undefined, { timeout: 30_000 });
  const results = await frame.evaluate(() => (window as unknown as { __twoPort: Results }).__twoPort);
  const events = await page.evaluate(() => (window as unknown as { events: { type: string; code: string }[] }).events);
  return { results, events };
}

async function waitForFrame(page: Page): Promise<Frame> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const f = page.frames().find((fr) => fr.url().startsWith(`${stack.previewOrigin}/`) && !fr.url().includes('/__gate/'));
    if (f) return f;
    if (Date.now() > deadline) throw new Error('the preview frame never showed the app');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the embed launches an app on several ports (`ports`)', () => {
  it('<preview-frame ports="3000 8000">: the API on 8000 answers the credentialed, preflighted and WebSocket calls of the frontend in the frame', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      let mintBody: unknown;
      page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith('/api/previews')) mintBody = r.postDataJSON();
      });
      const { results, events } = await checksThroughEmbed(page, `?ports=${TWO_PORT_FRONTEND}%20${TWO_PORT_API}`);
      expect(mintBody).toMatchObject({ port: TWO_PORT_FRONTEND, ports: [TWO_PORT_FRONTEND, TWO_PORT_API] });
      expect(events.filter((e) => e.type !== 'ready')).toEqual([]);
      const ok = { port: TWO_PORT_API, path: '/api/hello', identity: true, leaked: [] };
      expect(results.credentialed).toEqual({ status: 200, body: ok });
      expect(results.preflighted).toEqual({ status: 200, body: { ...ok, path: '/api/echo', echo: '{"n":42}', appHeader: 'two-port' } });
      expect(results.websocket).toEqual({ status: 101, body: 'ping' });
      // The cookie path's one named refusal (no worker in a cross-site frame with 3p cookies blocked).
      expect(results.plain?.status).toBe(401);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('control: without `ports` the grant is port 3000 only, and the API on 8000 refuses the same calls', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { results } = await checksThroughEmbed(page, '');
      expect(results.credentialed?.status).toBe(401);
      expect(results.preflighted?.status).toBe(401);
      expect(results.websocket?.status).not.toBe(101);
    } finally {
      await context.close();
    }
  }, 120_000);
});
