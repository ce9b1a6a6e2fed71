/**
 * The cookie-less worker path ("worker-only") in Chromium, so it is covered where WebKit is not
 * installed: the stack sits behind test/support/cookie-refusing-front.ts (no cookie ever reaches
 * the browser or comes back), which is what WebKit's cross-site iframe does by itself
 * (test/e2e/webkit.test.ts). Chromium cannot be told to refuse cookies while keeping its Service
 * Worker (its cookie setting covers all site data), hence the front.
 *
 * Each cell proves: the bootstrap reports `worker-only`, every inspector check passes with the
 * WebSocket authenticated by a ticket from the wrapper (sw/page/ws-shim.ts) and EventSource
 * carried by the worker, no gateway credential reaches the app, a mid-session expiry is renewed
 * with zero failed requests, and a reload passes every check again. And the refusal beside it:
 * with the worker off there is no way to carry the session, and the launch says so.
 */
import type { Browser, Frame, Page, Request as PwRequest, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchPersistentChromium, type PersistentChromium } from '../support/chromium.js';
import { openLaunch, startBrowserStack, type BrowserStack } from './browser-stack.js';
import { ALL_OK, appSaw, fetchBurst, frameOn, inspectorResults, readWorkerToken, grantCookieless } from './inspector.js';

let stack: BrowserStack;
beforeAll(async () => {
  stack = await startBrowserStack({ refuseCookies: true });
});
afterAll(async () => {
  await stack?.close();
});

/** Failed answers of the preview origin, and the WebSocket tickets the page asked for. */
function watch(page: Page): { failures: string[]; tickets: string[]; sockets: string[] } {
  const seen = { failures: [] as string[], tickets: [] as string[], sockets: [] as string[] };
  page.on('response', (r: Response) => {
    if (!r.url().startsWith(stack.previewOrigin)) return;
    if (r.status() >= 400) seen.failures.push(`${r.status()} ${r.url()}`);
    if (new URL(r.url()).pathname === '/__gate/ws-ticket') seen.tickets.push(String(r.status()));
  });
  page.on('requestfailed', (r: PwRequest) => {
    const error = r.failure()?.errorText ?? '';
    if (r.url().startsWith(stack.previewOrigin) && !error.includes('ERR_ABORTED')) seen.failures.push(`failed ${r.url()} ${error}`);
  });
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  return seen;
}

async function runCell(page: Page, embedding: 'iframe' | 'top'): Promise<void> {
  const seen = watch(page);
  let target: Page | Frame;
  if (embedding === 'iframe') {
    await page.goto(stack.host.url);
    await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 20_000 });
    expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('worker-only');
    target = frameOn(page, stack.previewOrigin);
  } else {
    const { url } = await stack.launchUrl('/');
    await openLaunch(page, url, stack.host.url);
    await page.waitForURL(`${stack.previewOrigin}/`, { timeout: 20_000 });
    target = page;
  }
  expect(await inspectorResults(target)).toEqual(ALL_OK);
  expect(await target.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
  expect(await target.evaluate(grantCookieless)).toBe(true);
  expect(await appSaw(target)).toEqual({ document: [], fetch: [] });
  // The app's socket URL never shows the ticket to the app; the wire URL carries one.
  expect(seen.tickets).toEqual(['200']);
  expect(seen.sockets).toHaveLength(1);
  expect(seen.sockets[0]).toMatch(/[?&]__gate_ticket=/);

  const before = await target.evaluate(readWorkerToken);
  stack.advance(stack.accessTtlMs + 5_000);
  expect(await target.evaluate(fetchBurst)).toEqual(Array(10).fill(200));
  expect(await target.evaluate(readWorkerToken)).not.toBe(before);

  await target.evaluate(() => location.reload());
  await target.waitForLoadState('load');
  expect(await inspectorResults(target)).toEqual(ALL_OK);
  expect(await appSaw(target)).toEqual({ document: [], fetch: [] });
  expect(seen.tickets).toEqual(['200', '200']);
  expect(seen.failures).toEqual([]);
}

describe('Chromium without any cookie (cookie-refusing front): the worker-only path', () => {
  let browser: Browser;
  let persistent: PersistentChromium;
  beforeAll(async () => {
    browser = await launchChromium();
    persistent = await launchPersistentChromium({ thirdPartyCookies: true });
  });
  afterAll(async () => {
    await browser?.close();
    await persistent?.close();
  });

  it('top level → worker-only: WebSocket by ticket, EventSource through the worker, expiry renewed, zero failed requests', async () => {
    const context = await browser.newContext();
    try {
      await runCell(await context.newPage(), 'top');
    } finally {
      await context.close();
    }
  });

  it('cross-site iframe (the worker registers in the frame) → worker-only, every check passes', async () => {
    const page = await persistent.context.newPage();
    try {
      await runCell(page, 'iframe');
    } finally {
      await page.close();
    }
  });

  it('worker off without any cookie → storage_refused (nothing could carry the session: refused, not half-working)', async () => {
    const page = await persistent.context.newPage();
    try {
      await page.goto(`${stack.host.url}?worker=off`);
      await page.waitForSelector('body[data-preview-state="error"]', { timeout: 20_000 });
      expect(await page.evaluate(() => document.body.dataset.lastCode)).toBe('storage_refused');
    } finally {
      await page.close();
    }
  });
});
