/**
 * WebKit cells of the browser matrix: Debian's WebKitGTK MiniBrowser under Xvfb, driven over
 * W3C WebDriver (test/support/webkit.ts), WebKit's default cookie policy. One browser for the
 * whole file; each cell has its own stack (fresh origins, so no worker, cookie or IndexedDB
 * carries over between cells).
 *
 * What WebKitGTK does (measured here, ARCHITECTURE.md "Browser engines"): it drops every `Secure`
 * cookie set over plain `http://*.localhost`, and in a cross-site iframe it refuses every cookie
 * (`Partitioned` included) but lets the Service Worker register (partitioned by the top site).
 * So:
 *  - top level over HTTPS (a TLS front with a certificate generated for the run), worker → `worker`
 *    (the cookie works as a fallback); worker off → `cookie`;
 *  - top level over plain HTTP, worker → `worker-only` (the cookie is dropped);
 *  - the host page's cross-site iframe, worker → `worker-only`: EventSource goes through the
 *    worker and WebSockets take a ticket through the wrapper the worker adds (sw/page/ws-shim.ts);
 *    worker off → `storage_refused` (nothing can carry the session there).
 * Each working cell proves every inspector check (script, style, image, fetch with a custom
 * header, POST, WebSocket, EventSource, download), no gateway credential reaching the app, an
 * access token expiring mid-session (the stack's movable clock) renewed with zero failed
 * requests, and a reload after expiry passing every check again.
 *
 * Failed requests: WebDriver classic has no network events, so the gateway's own request log
 * is the witness (every answer of the preview origin with status >= 400, WebSocket upgrades
 * included), less the worker's own first attempts with an expired token (`token_expired`, which
 * the worker renews and retries by design; the app never sees them: the burst's statuses say so).
 *
 * Skipped, with the reason in its name, when WebKit is not installed (best-effort, like Firefox:
 * scripts/ensure-browsers.mjs installs it where it can).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../broker/core/contracts.js';
import { launchWebKit, webkitUnavailable, type WebDriverClient, type WebKit } from '../support/webkit.js';
import { startBrowserStack, type BrowserStack } from './browser-stack.js';
import { ALL_OK, fetchBurst, gatewayCredentialsIn, readWorkerToken, controlled, grantCookieless } from './inspector.js';
import { pollUntil } from '../support/poll.js';

const MISSING = webkitUnavailable();
const SUITE = MISSING ? `WebKit (skipped: ${MISSING})` : 'WebKit (WebKitGTK MiniBrowser, WebDriver, Xvfb)';
if (MISSING) console.warn(`[webkit] ${SUITE}`);

type Expected = 'worker' | 'worker-only' | 'cookie';
interface Cell {
  embedding: 'iframe' | 'top';
  https: boolean;
  worker: boolean;
  expected: Expected;
}

/** The gateway's request log, kept for the failure check. */
function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  return { lines, logger: { info: keep, warn: keep, error: keep } };
}

async function until<T>(driver: WebDriverClient, what: string, fn: () => T, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, () => driver.call(fn) as Promise<T>, { timeoutMs });
}

/* Page-side probes (sent as source: self-contained). */
function inspectorDone(): boolean {
  return document.documentElement.dataset.inspectorDone === 'true';
}
function inspectorResults(): Record<string, string> {
  return { ...(window as unknown as { __inspector: { results: Record<string, string> } }).__inspector.results };
}
async function appSawRaw(): Promise<[unknown, unknown]> {
  const d = (window as unknown as { __inspector: { request: unknown } }).__inspector.request;
  const f: unknown = await (await fetch('/api/echo', { headers: { accept: 'application/json' } })).json();
  return [d, f];
}

/**
 * Opens a launch URL at top level the way the host page opens it: navigated from a page of the
 * host site, whose origin is then the launch page's referrer (the login-CSRF binding,
 * broker/core/limits/launch-binding.ts). WebDriver has no referrer option: a 404 page of the host
 * site (nothing embedded there) assigns the location itself.
 */
async function openFromHost(d: WebDriverClient, hostUrl: string, url: string): Promise<void> {
  await d.navigate(`${new URL(hostUrl).origin}/no-such-page`);
  await d.execute('location.assign(arguments[0])', [url]);
}

describe.skipIf(Boolean(MISSING))(SUITE, () => {
  let webkit: WebKit;
  const timings: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    const started = Date.now();
    webkit = await launchWebKit();
    timings.startup = { browser: Date.now() - started };
    console.log(`[webkit] ${webkit.version}`);
  });
  afterAll(async () => {
    await webkit?.close();
    if (Object.keys(timings).length) console.log('[webkit] timings (ms):', JSON.stringify(timings));
  });

  /** Status >= 400 answers of the preview origin the gateway logged (see the file's comment). */
  function failures(stack: BrowserStack, lines: Record<string, unknown>[]): string[] {
    const host = new URL(stack.previewOrigin).host;
    return lines
      .filter((l) => (l.event === 'request' || l.event === 'upgrade') && l.host === host && Number(l.status) >= 400)
      .filter((l) => l.code !== 'token_expired' && l.path !== '/favicon.ico')
      .map((l) => `${String(l.status)} ${String(l.path)} ${String(l.code ?? '')}`);
  }

  /** Opens the preview; the driver is left in the document the inspector runs in. */
  async function open(stack: BrowserStack, cell: Cell): Promise<string> {
    const d = webkit.driver;
    await d.switchToFrame(null);
    if (cell.embedding === 'iframe') {
      await d.navigate(stack.host.url + (cell.worker ? '' : '?worker=off'));
      const state = await until(d, 'the embed to settle', () => {
        const s = document.body.dataset.previewState;
        return s === 'ready' || s === 'error' ? s : '';
      });
      const path = await d.execute<string>('return document.body.dataset.credentialPath || document.body.dataset.previewState');
      if (state !== 'ready') return `${state}:${await d.execute<string>('return document.body.dataset.lastCode || ""')}`;
      const frame = await d.execute<Parameters<WebDriverClient['switchToFrame']>[0]>(
        "return document.getElementById('preview').shadowRoot.querySelector('iframe')",
      );
      await d.switchToFrame(frame);
      return path;
    }
    const { url } = await stack.launchUrl('/');
    await openFromHost(d, stack.host.url, cell.worker ? url : `${url}&sw=0`);
    await until(d, 'the app at /', () => location.pathname === '/' && !location.hash && document.readyState === 'complete');
    expect(await d.url()).toBe(`${stack.previewOrigin}/`);
    // At top level nobody hears the bootstrap's `launched` message: read what it decided.
    if (!(await d.call(controlled))) return 'cookie';
    return (await d.call(grantCookieless)) ? 'worker-only' : 'worker';
  }

  async function checks(): Promise<Record<string, string>> {
    await until(webkit.driver, 'the inspector checks', inspectorDone);
    return webkit.driver.call(inspectorResults);
  }

  async function appSaw(): Promise<{ document: string[]; fetch: string[] }> {
    const [doc, fetched] = await webkit.driver.call(appSawRaw);
    return { document: gatewayCredentialsIn(doc as never), fetch: gatewayCredentialsIn(fetched as never) };
  }

  async function reload(): Promise<void> {
    const d = webkit.driver;
    await d.execute('window.__beforeReload = true; setTimeout(() => location.reload(), 0); return true;');
    await until(d, 'the reloaded document', () => !(window as unknown as { __beforeReload?: boolean }).__beforeReload && document.readyState === 'complete');
  }

  async function runCell(cell: Cell, label: string): Promise<void> {
    const { logger, lines } = recordingLogger();
    const stack = await startBrowserStack({ https: cell.https, logger });
    try {
      const started = Date.now();
      const path = await open(stack, cell);
      expect(await checks()).toEqual(ALL_OK);
      const timing: Record<string, number> = { launchToChecksDone: Date.now() - started };
      timings[label] = timing;
      expect(path).toBe(cell.expected);
      const isWorker = cell.expected !== 'cookie';
      // The page really is (or is not) controlled by the worker, whatever was reported.
      expect(await webkit.driver.call(controlled)).toBe(isWorker);
      expect(await appSaw()).toEqual({ document: [], fetch: [] });

      // The access token expires mid-session (the gateway's clock jumps past its lifetime).
      const before = await webkit.driver.call(readWorkerToken);
      stack.advance(stack.accessTtlMs + 5_000);
      const renewStarted = Date.now();
      expect(await webkit.driver.call(fetchBurst)).toEqual(Array(10).fill(200));
      timing.renewedBurst = Date.now() - renewStarted;
      if (isWorker) {
        expect(before).toMatch(/^ey/);
        expect(await webkit.driver.call(readWorkerToken)).not.toBe(before);
      } else expect(before).toBeNull();

      // A navigation after expiry: every subresource, WebSocket and stream again.
      await reload();
      expect(await checks()).toEqual(ALL_OK);
      expect(await appSaw()).toEqual({ document: [], fetch: [] });
      expect(failures(stack, lines)).toEqual([]);
      // How the WebSocket authenticated: tickets (through the wrapper) only on the cookie-less path.
      const host = new URL(stack.previewOrigin).host;
      const tickets = lines.filter((l) => l.event === 'request' && l.host === host && l.path === '/__gate/ws-ticket' && l.status === 200).length;
      const upgrades = lines.filter((l) => l.event === 'upgrade' && l.host === host && l.status === 101).length;
      expect(upgrades).toBeGreaterThanOrEqual(2);
      if (cell.expected === 'worker-only') expect(tickets).toBe(upgrades);
      else expect(tickets).toBe(0);
      timing.total = Date.now() - started;
    } finally {
      await webkit.driver.switchToFrame(null).catch(() => undefined);
      // Leave the preview before its stack goes away (no reconnecting WebSocket or stream).
      await webkit.driver.navigate('about:blank').catch(() => undefined);
      await stack.close();
    }
  }

  it('cross-site iframe, worker requested → worker-only (WebKit refuses every cookie in the frame; WebSocket tickets, EventSource via the worker)', async () => {
    await runCell({ embedding: 'iframe', https: false, worker: true, expected: 'worker-only' }, 'iframe/worker-only');
  });

  it('top level over HTTPS, worker requested → worker (cookie fallback works)', async () => {
    await runCell({ embedding: 'top', https: true, worker: true, expected: 'worker' }, 'top-https/worker');
  });

  it('top level over HTTPS, worker off (sw=0) → cookie', async () => {
    await runCell({ embedding: 'top', https: true, worker: false, expected: 'cookie' }, 'top-https/cookie');
  });

  it('top level over plain http://*.localhost, worker requested → worker-only (WebKitGTK drops Secure cookies there)', async () => {
    await runCell({ embedding: 'top', https: false, worker: true, expected: 'worker-only' }, 'top-http/worker-only');
  });

  it('top level over plain http://*.localhost, worker off → storage_refused, told as a tab of its own (not "embedded")', async () => {
    const stack = await startBrowserStack();
    try {
      const { url } = await stack.launchUrl('/');
      await openFromHost(webkit.driver, stack.host.url, `${url}&sw=0`);
      const shown = (await until(webkit.driver, 'the failure', () =>
        document.body.dataset.gateCode ? [document.body.dataset.gateCode, document.title] : null,
      ))!;
      expect(shown[0]).toBe('storage_refused');
      expect(shown[1]).not.toMatch(/embedded/i);
    } finally {
      await webkit.driver.navigate('about:blank').catch(() => undefined);
      await stack.close();
    }
  });

  it('cross-site iframe, worker off → storage_refused is shown (no cookie, no worker: nothing can carry the session)', async () => {
    const stack = await startBrowserStack();
    try {
      expect(await open(stack, { embedding: 'iframe', https: false, worker: false, expected: 'cookie' })).toBe('error:storage_refused');
    } finally {
      await webkit.driver.navigate('about:blank').catch(() => undefined);
      await stack.close();
    }
  });
});
