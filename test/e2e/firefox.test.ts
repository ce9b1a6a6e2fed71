/**
 * Firefox cells of the browser matrix: Debian's Firefox ESR, headless, driven by puppeteer-core
 * over WebDriver BiDi (test/support/firefox.ts), with Firefox's shipped cookie policy (Total
 * Cookie Protection: a cross-site frame's cookies, storage and Service Worker are partitioned
 * by the top-level site). One browser, one fresh profile for the whole file.
 *
 * Cells: {cross-site iframe in the demo host page, top-level navigation} × {worker requested,
 * worker off}. Unlike Chromium with third-party cookies blocked, Firefox lets the worker
 * register inside the cross-site frame (in the frame's partition), so every "worker requested"
 * cell is on the worker path. Each cell proves what matrix.test.ts proves in Chromium: the
 * inspector page and every check (script, style, image, fetch with a custom header, POST,
 * WebSocket, EventSource, download), no gateway credential reaching the app, an access token
 * expiring mid-session (the stack's movable clock) renewed with zero failed requests, and a
 * reload after expiry passing every check again.
 *
 * Skipped, with the reason in its name, when no Firefox is installed (Firefox is best-effort:
 * scripts/ensure-browsers.mjs installs it where it can).
 */
import type { Browser, Frame, HTTPRequest, HTTPResponse, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firefoxPath, launchFirefox } from '../support/firefox.js';
import { startBrowserStack, type BrowserStack } from './browser-stack.js';
import { ALL_OK, fetchBurst, gatewayCredentialsIn, readWorkerToken } from './inspector.js';
import { pollUntil } from '../support/poll.js';

type Target = Page | Frame;
interface Cell {
  embedding: 'iframe' | 'top';
  worker: boolean;
  expected: 'worker' | 'cookie';
}

const FIREFOX = firefoxPath();
const SUITE = FIREFOX
  ? 'Firefox ESR (puppeteer-core, WebDriver BiDi, Total Cookie Protection)'
  : 'Firefox (skipped: no Firefox found; apt-get install firefox-esr or set FIREFOX_PATH)';
if (!FIREFOX) console.warn(`[firefox] ${SUITE}`);

/**
 * Polls `fn` in the page until it returns a truthy value. Unlike `waitForFunction`, it survives
 * the document being replaced under it (the launch page's `location.replace`, a reload): an
 * evaluation that races a navigation just counts as "not yet".
 */
async function until<T>(target: Target, what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, () => target.evaluate(fn) as Promise<T>, { timeoutMs, everyMs: 50 });
}

/** Waits until the inspector finished its checks; returns name → result ('ok' or 'fail:...'). */
async function inspectorResults(target: Target): Promise<Record<string, string>> {
  await until(target, 'the inspector checks', () => document.documentElement.dataset.inspectorDone === 'true');
  return target.evaluate(() => ({ ...(window as unknown as { __inspector: { results: Record<string, string> } }).__inspector.results }));
}

/** Gateway credentials the app saw on the document request and on a fetch from the page. */
async function appSaw(target: Target): Promise<{ document: string[]; fetch: string[] }> {
  const [doc, fetched] = await target.evaluate(async () => {
    const d = (window as unknown as { __inspector: { request: unknown } }).__inspector.request;
    const f: unknown = await (await fetch('/api/echo', { headers: { accept: 'application/json' } })).json();
    return [d, f] as const;
  });
  return { document: gatewayCredentialsIn(doc as never), fetch: gatewayCredentialsIn(fetched as never) };
}

/** First contentful paint of the current document, in ms from its navigation start (-1: none). */
function fcp(target: Target): Promise<number> {
  return target.evaluate(() => Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1));
}

describe.skipIf(!FIREFOX)(SUITE, () => {
  let stack: BrowserStack;
  let browser: Browser;
  const timings: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    const started = Date.now();
    [stack, browser] = await Promise.all([startBrowserStack(), launchFirefox()]);
    timings.startup = { stackAndBrowser: Date.now() - started };
    console.log(`[firefox] ${await browser.version()} at ${FIREFOX}`);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (Object.keys(timings).length) console.log('[firefox] timings (ms):', JSON.stringify(timings));
  });

  /**
   * What the app experienced: every answer of the preview origin with status >= 400, and failed
   * requests. Firefox's own `/favicon.ico` requests are not the app's and are left out: at top
   * level Firefox asks for one for every document, including the launch page before its code is
   * exchanged (no credential yet: 401 `missing_credential`), and the inspector app has none (404).
   */
  function watchFailures(page: Page): string[] {
    const failures: string[] = [];
    const favicon = `${stack.previewOrigin}/favicon.ico`;
    page.on('response', (r: HTTPResponse) => {
      if (r.url().startsWith(stack.previewOrigin) && r.url() !== favicon && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r: HTTPRequest) => {
      // NS_BINDING_ABORTED is the page cancelling its own request (EventSource.close, a reload).
      const error = r.failure()?.errorText ?? '';
      if (r.url().startsWith(stack.previewOrigin) && !/ABORTED/i.test(error)) failures.push(`failed ${r.url()} ${error}`);
    });
    return failures;
  }

  /** Opens the preview the way the cell says; returns where the inspector runs and the credential path. */
  async function open(page: Page, cell: Cell): Promise<{ target: Target; path: string }> {
    if (cell.embedding === 'iframe') {
      await page.goto(stack.host.url + (cell.worker ? '' : '?worker=off'));
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 20_000 });
      const frame = page.frames().find((f) => f.url().startsWith(stack.previewOrigin));
      if (!frame) throw new Error(`no frame on ${stack.previewOrigin}`);
      // What the embed reports (the bootstrap's `launched` message).
      return { target: frame, path: await page.evaluate(() => document.body.dataset.credentialPath ?? '') };
    }
    const { url } = await stack.launchUrl('/');
    // Opened from the origin the link was minted for (its referrer): no confirmation (login-CSRF
    // defence). From a page of that origin that embeds nothing: the demo host page's own embed
    // would start a launch in its frame, which this navigation then cancels, and Firefox reports
    // that frame's `/__gate/launch` as a failed request (NS_BINDING_ABORTED, once NS_ERROR_FAILURE).
    await page.goto(`${stack.host.url}no-embed`);
    await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.evaluate((u) => void (location.href = u), cell.worker ? url : `${url}&sw=0`)]);
    // The launch page exchanges the code, then `location.replace('/')`.
    await until(page, 'the app at /', () => location.pathname === '/' && !location.hash);
    expect(await page.evaluate(() => location.href)).toBe(`${stack.previewOrigin}/`);
    return { target: page, path: await page.evaluate(() => (navigator.serviceWorker?.controller ? 'worker' : 'cookie')) };
  }

  /** Reloads the document the inspector runs in and waits for the new one. */
  async function reload(target: Target): Promise<void> {
    await target.evaluate(() => {
      (window as unknown as { __beforeReload: boolean }).__beforeReload = true;
      location.reload();
    });
    await until(
      target,
      'the reloaded document',
      () => !(window as unknown as { __beforeReload?: boolean }).__beforeReload && document.readyState === 'complete',
    );
  }

  async function runCell(page: Page, cell: Cell, label: string): Promise<Target> {
    const failures = watchFailures(page);
    const started = Date.now();
    const { target, path } = await open(page, cell);
    expect(await inspectorResults(target)).toEqual(ALL_OK);
    const timing: Record<string, number> = { launchToChecksDone: Date.now() - started, appFirstPaint: await fcp(target) };
    timings[label] = timing;
    expect(path).toBe(cell.expected);
    // The page really is (or is not) controlled by the worker, whatever was reported.
    expect(await target.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(cell.expected === 'worker');
    expect(await appSaw(target)).toEqual({ document: [], fetch: [] });

    // The access token expires mid-session (the gateway's clock jumps past its lifetime).
    const before = await target.evaluate(readWorkerToken);
    stack.advance(stack.accessTtlMs + 5_000);
    const renewStarted = Date.now();
    expect(await target.evaluate(fetchBurst)).toEqual(Array(10).fill(200));
    timing.renewedBurst = Date.now() - renewStarted;
    // Worker path: the worker renewed (a new token in IndexedDB). Cookie path: the gateway
    // renewed server-side (Set-Cookie) and no worker token ever existed.
    if (cell.expected === 'worker') {
      expect(before).toMatch(/^ey/);
      expect(await target.evaluate(readWorkerToken)).not.toBe(before);
    } else expect(before).toBeNull();

    // A navigation after expiry: every subresource, WebSocket and stream again.
    await reload(target);
    expect(await inspectorResults(target)).toEqual(ALL_OK);
    timing.reloadFirstPaint = await fcp(target);
    expect(await appSaw(target)).toEqual({ document: [], fetch: [] });
    expect(failures).toEqual([]);
    timing.total = Date.now() - started;
    return target;
  }

  it("cross-site iframe, worker requested → worker (registered in the frame's partition)", async () => {
    const page = await browser.newPage();
    let topLevel: Page | undefined;
    try {
      const frame = await runCell(page, { embedding: 'iframe', worker: true, expected: 'worker' }, 'iframe/worker');
      // A second tab, opened only now: a background tab does not paint (no first paint timing).
      topLevel = await browser.newPage();
      expect(await frame.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(1);
      // Partitioned: the same preview origin at top level (first-party) sees neither the
      // frame's worker nor its cookies (the gateway answers "missing credential").
      const res = await topLevel.goto(`${stack.previewOrigin}/`);
      expect(res?.status()).toBe(401);
      expect(await topLevel.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
      expect(await topLevel.evaluate(() => isSecureContext)).toBe(true);
    } finally {
      await topLevel?.close();
      await page.close();
    }
  });

  it('cross-site iframe, worker off → cookie (Partitioned cookie; the earlier worker unregistered)', async () => {
    const page = await browser.newPage();
    try {
      const frame = await runCell(page, { embedding: 'iframe', worker: false, expected: 'cookie' }, 'iframe/cookie');
      expect(await frame.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('top level, worker requested → worker', async () => {
    const page = await browser.newPage();
    try {
      await runCell(page, { embedding: 'top', worker: true, expected: 'worker' }, 'top/worker');
    } finally {
      await page.close();
    }
  });

  it('top level, worker off (sw=0) → cookie', async () => {
    const page = await browser.newPage();
    try {
      await runCell(page, { embedding: 'top', worker: false, expected: 'cookie' }, 'top/cookie');
    } finally {
      await page.close();
    }
  });
});
