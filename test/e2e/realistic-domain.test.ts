/**
 * The inspector app (demo/emulator/inspector) on a realistic preview domain:
 * `https://3000-{id}.preview.example.test` over TLS (test/support/realistic-domain.ts), in
 * Chromium, both credential paths: (a) the host page's cross-site iframe with third-party cookies
 * blocked (partitioned cookie), (b) top level with the Service Worker. Every inspector check
 * (script, style, image, fetch, POST, WebSocket, EventSource, download) passes, no request fails,
 * no gateway credential reaches the app, and the app is told the public scheme (`https`) in
 * X-Forwarded-Proto for requests and WebSockets alike. The `*.localhost` runs stay in matrix.test.ts.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_OK, appSaw, frameOn, inspectorResults } from './inspector.js';
import { launchRealisticChromium, startRealisticStack, type RealisticStack } from '../support/realistic-domain.js';

let stack: RealisticStack;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  stack = await startRealisticStack();
  browser = await launchRealisticChromium(stack.spki);
  origin = stack.previewOrigin(3000);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

function watchFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on('response', (r: Response) => {
    if (r.url().startsWith(origin) && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText ?? '';
    if (r.url().startsWith(origin) && !error.includes('ERR_ABORTED')) failures.push(`failed ${r.url()} ${error}`);
  });
  return failures;
}

describe('a realistic preview domain (*.preview.example.test over HTTPS) in Chromium', { timeout: 90_000 }, () => {
  it('(a) cross-site iframe, third-party cookies blocked: the partitioned cookie path', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page);
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 30_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('cookie');
      const frame = frameOn(page, origin);
      expect(await frame.evaluate(() => location.origin)).toBe(origin);
      expect(await inspectorResults(frame, 30_000)).toEqual(ALL_OK);
      expect(await appSaw(frame)).toEqual({ document: [], fetch: [] });
      const echoed = await frame.evaluate(
        async () => (await (await fetch('/api/echo', { headers: { accept: 'application/json' } })).json()) as { headers: Record<string, string> },
      );
      expect(echoed.headers['x-forwarded-proto']).toBe('https');
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('(b) top level with the Service Worker: the worker path over HTTPS', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page);
      await page.goto(await stack.launchUrl(3000), { referer: stack.host.url });
      await page.waitForURL(`${origin}/`, { timeout: 30_000 });
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker?.controller))).toBe(true);
      expect(await inspectorResults(page, 30_000)).toEqual(ALL_OK);
      expect(await appSaw(page)).toEqual({ document: [], fetch: [] });
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
