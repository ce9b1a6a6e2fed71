/**
 * The browser matrix: {third-party cookies blocked, allowed} × {cross-site iframe in the host
 * page, top-level navigation} × {worker active, worker unavailable}. In a cross-site iframe with
 * third-party cookies blocked the worker cannot exist (Chromium refuses the registration), so
 * that cell is naturally cookie-only. Each cell proves: the inspector page and every
 * subresource load, fetch with a custom header, POST with a body, WebSocket echo, EventSource;
 * an access token that expires mid-session is renewed with zero failed requests; no gateway
 * credential reaches the app.
 */
import type { Browser, BrowserContext, Frame, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchPersistentChromium, type PersistentChromium } from '../support/chromium.js';
import { openLaunch, startBrowserStack, type BrowserStack } from './browser-stack.js';
import { ALL_OK, appSaw, fetchBurst, fetchStatus, frameOn, inspectorResults, readWorkerToken } from './inspector.js';

type Embedding = 'iframe' | 'top';
interface Cell {
  embedding: Embedding;
  worker: boolean;
  expected: 'worker' | 'cookie';
}

let stack: BrowserStack;
const timings: Record<string, Record<string, number>> = {};

/** First contentful paint of the current document, in ms from its navigation start. */
async function fcp(target: Frame | Page): Promise<number> {
  return target.evaluate(() => Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1));
}

beforeAll(async () => {
  stack = await startBrowserStack();
});
afterAll(async () => {
  await stack?.close();
  if (Object.keys(timings).length) console.log('[matrix] timings (ms):', JSON.stringify(timings));
});

/** Opens the preview the way the cell says; returns where the inspector runs and the credential path. */
async function open(page: Page, cell: Cell): Promise<{ target: Frame | Page; path: string }> {
  if (cell.embedding === 'iframe') {
    await page.goto(stack.host.url + (cell.worker ? '' : '?worker=off'));
    await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 20_000 });
    const frame = frameOn(page, stack.previewOrigin);
    const path = await page.evaluate(() => document.body.dataset.credentialPath ?? '');
    return { target: frame, path };
  }
  const { url } = await stack.launchUrl('/');
  await openLaunch(page, cell.worker ? url : `${url}&sw=0`, stack.host.url);
  await page.waitForURL(`${stack.previewOrigin}/`, { timeout: 20_000 });
  const path = await page.evaluate(() => (navigator.serviceWorker?.controller ? 'worker' : 'cookie'));
  return { target: page, path };
}

/** What the app experienced: every answer of the preview origin with status >= 400, and failed requests. */
function watchFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on('response', (r: Response) => {
    if (r.url().startsWith(stack.previewOrigin) && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    // ERR_ABORTED is the page cancelling its own request (EventSource.close, a reload): not a failure.
    const error = r.failure()?.errorText ?? '';
    if (r.url().startsWith(stack.previewOrigin) && !error.includes('ERR_ABORTED')) failures.push(`failed ${r.url()} ${error}`);
  });
  return failures;
}

async function runCell(page: Page, cell: Cell, label: string): Promise<void> {
  const failures = watchFailures(page);
  const started = Date.now();
  const { target, path } = await open(page, cell);
  expect(await inspectorResults(target)).toEqual(ALL_OK);
  timings[label] = { launchToChecksDone: Date.now() - started, appFirstPaint: await fcp(target) };
  expect(path).toBe(cell.expected);
  expect(await appSaw(target)).toEqual({ document: [], fetch: [] });

  // The access token expires mid-session (the gateway's clock jumps past its lifetime).
  const before = await target.evaluate(readWorkerToken);
  stack.advance(stack.accessTtlMs + 5_000);
  expect(await target.evaluate(fetchBurst)).toEqual(Array(10).fill(200));
  // On the worker path the worker renewed (a new token in IndexedDB); on the cookie path the
  // gateway renewed server-side (Set-Cookie). Either way the app saw only 200s.
  if (cell.expected === 'worker') expect(await target.evaluate(readWorkerToken)).not.toBe(before);
  else expect(before).toBeNull();
  // A navigation after expiry (the page reloads): every subresource, WebSocket and stream again.
  await target.evaluate(() => location.reload());
  await target.waitForLoadState('load');
  expect(await inspectorResults(target)).toEqual(ALL_OK);
  timings[label]!.reloadFirstPaint = await fcp(target);
  expect(await appSaw(target)).toEqual({ document: [], fetch: [] });
  expect(failures).toEqual([]);
}

const CELLS: Record<'blocked' | 'allowed', Cell[]> = {
  blocked: [
    { embedding: 'iframe', worker: true, expected: 'cookie' }, // the worker cannot exist here
    { embedding: 'top', worker: true, expected: 'worker' },
    { embedding: 'top', worker: false, expected: 'cookie' },
  ],
  allowed: [
    { embedding: 'iframe', worker: true, expected: 'worker' },
    { embedding: 'iframe', worker: false, expected: 'cookie' },
    { embedding: 'top', worker: true, expected: 'worker' },
    { embedding: 'top', worker: false, expected: 'cookie' },
  ],
};

const name = (c: Cell) => `${c.embedding}, worker ${c.worker ? 'requested' : 'off'} → ${c.expected}`;

describe('third-party cookies blocked (Playwright default)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const cell of CELLS.blocked) {
    it(name(cell), async () => {
      // Worker unavailable at top level: a context that refuses Service Workers.
      const context: BrowserContext = await browser.newContext(cell.worker ? {} : { serviceWorkers: 'block' });
      try {
        await runCell(await context.newPage(), cell, `blocked/${cell.embedding}/${cell.expected}`);
      } finally {
        await context.close();
      }
    });
  }
});

describe('third-party cookies allowed (persistent profile)', () => {
  let chromium: PersistentChromium;
  beforeAll(async () => {
    chromium = await launchPersistentChromium({ thirdPartyCookies: true });
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it('revocation on the worker path: the frame loses access and the embed reports the session ended', async () => {
    const page = await chromium.context.newPage();
    try {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]');
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('worker');
      const frame = frameOn(page, stack.previewOrigin);
      await page.evaluate(() => document.getElementById('preview')!.addEventListener('expired', (e) => e.preventDefault(), { once: true }));
      // Revoked elsewhere (the broker API): the frame still shows the app (handle.revoke() would
      // also empty the frame: test/e2e/pages-chromium.test.ts).
      const sid = await page.evaluate(() => (document.getElementById('preview') as unknown as { handle: { sessionId: string } }).handle.sessionId);
      expect((await stack.api('DELETE', `/api/previews/${sid}`)).status).toBe(204);
      // The worker's token is refused at once (revocation is checked on every request) and it
      // clears its tokens; the cookie is revoked too.
      expect(await fetchStatus(frame)).toBe(401);
      await frame.evaluate(() => location.reload());
      await page.waitForSelector('body[data-preview-state="expired"]');
      // The gateway clears the cookies when it answers session_revoked, so the reload may be
      // told "missing_credential" instead; either way the embed reports the session as ended.
      expect(['session_revoked', 'missing_credential']).toContain(await page.evaluate(() => document.body.dataset.lastCode));
    } finally {
      await page.close();
    }
  });

  for (const cell of CELLS.allowed) {
    it(name(cell), async () => {
      // One profile for all cells: `worker=off` / `sw=0` unregisters an earlier cell's worker.
      const page = await chromium.context.newPage();
      try {
        await runCell(page, cell, `allowed/${cell.embedding}/${cell.expected}`);
      } finally {
        await page.close();
      }
    });
  }
});
