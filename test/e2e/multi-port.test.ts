/**
 * Apps on several ports through the browser matrix (ARCHITECTURE.md flow 16): the two-port sample
 * app (demo/sandbox-apps/two-port/server.ts: frontend on sandbox port 3000, its API on 8000)
 * opened from ONE launch with `ports: [3000, 8000]`, in Chromium, Firefox and WebKit. Its page
 * calls the API with and without credentials, with a preflighted custom header, and opens a
 * WebSocket to it; then the gateway's clock jumps past the access token's lifetime and the page
 * runs every check again (renewal of the sibling's token or cookie, mid-session).
 *
 * Failed requests are counted where every engine can be seen alike: the gateway's request log
 * (status >= 400 on either origin, `token_expired` excepted: the worker renews and retries it).
 * The one expected refusal is named: on the cookie path (no worker), a request to the API made
 * WITHOUT credentials carries nothing at all, so it cannot be authenticated (401
 * `missing_credential`, readable by the page: the gateway's own errors carry CORS headers for
 * the sandbox's other ports, broker/core/tokens/sibling-origins.ts#siblingErrorCors). That is the documented limit of the cookie path (docs/interface.md, "Apps on
 * several ports"); the worker path carries it.
 */
import type { Browser as PwBrowser, Frame as PwFrame, Page as PwPage } from 'playwright-core';
import type { Browser as PpBrowser, Frame as PpFrame, Page as PpPage } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../broker/core/contracts.js';
import { startTwoPortApp, TWO_PORT_API, TWO_PORT_FRONTEND, type TwoPortApp } from '../../demo/sandbox-apps/two-port/server.js';
import { launchChromium, launchPersistentChromium, type PersistentChromium } from '../support/chromium.js';
import { firefoxPath, launchFirefox } from '../support/firefox.js';
import { launchWebKit, webkitUnavailable, type WebDriverClient, type WebKit } from '../support/webkit.js';
import { startBrowserStack, type BrowserStack } from './browser-stack.js';
import { controlled, grantCookieless } from './inspector.js';
import { pollUntil } from '../support/poll.js';

type Results = Record<string, { status: number; body: unknown }>;
type Path = 'worker' | 'worker-only' | 'cookie';

const API_OK = { port: TWO_PORT_API, path: '/api/hello', identity: true, leaked: [] };
const ALL_OK: Results = {
  plain: { status: 200, body: API_OK },
  credentialed: { status: 200, body: API_OK },
  preflighted: { status: 200, body: { ...API_OK, path: '/api/echo', echo: '{"n":42}', appHeader: 'two-port' } },
  websocket: { status: 101, body: 'ping' },
};
/** The cookie path: everything but the request sent without credentials (see the header), refused with a readable code. */
const COOKIE_OK = (r: Results) => ({
  ...ALL_OK,
  plain: { status: 401, body: { error: { code: 'missing_credential', message: (r.plain?.body as { error?: { message?: string } })?.error?.message } } },
});

/** One engine's way to open a page, embed a frame, run a probe in the app's document. */
interface Driver {
  /** Top level, navigated from a page of the host site (the launch's binding). */
  openTop(url: string, hostUrl: string): Promise<void>;
  /** In a cross-site iframe of a page of the host site. */
  openFramed(url: string, hostUrl: string): Promise<void>;
  /** Runs a self-contained function in the app's document (the frame when framed). */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/* Page-side probes: self-contained. */
function done(): boolean {
  return document.body?.dataset.done === 'true' && location.pathname === '/';
}
function results(): Results {
  return (window as unknown as { __twoPort: Results }).__twoPort;
}
async function rerun(): Promise<Results> {
  await (window as unknown as { __twoPortRun: () => Promise<void> }).__twoPortRun();
  return (window as unknown as { __twoPort: Results }).__twoPort;
}
/** The launch URL in a cross-site iframe of this (host-site) page. */
function embed(url: string): boolean {
  const f = document.createElement('iframe');
  f.id = 'preview';
  f.referrerPolicy = 'origin';
  f.style.width = '800px';
  f.style.height = '600px';
  f.src = url;
  document.body.appendChild(f);
  return true;
}

async function until<T>(what: string, probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, probe, { timeoutMs });
}

/** playwright (Chromium) and puppeteer (Firefox) pages look alike for what is needed here. */
type AnyPage = PwPage | PpPage;
type AnyFrame = PwFrame | PpFrame;
function pageDriver(page: AnyPage, previewOrigin: string, closeAll: () => Promise<void>): Driver {
  let target: AnyPage | AnyFrame = page;
  const evaluate = <T>(t: AnyPage | AnyFrame, fn: () => T | Promise<T>) => (t as PwPage).evaluate(fn as () => Promise<T>) as Promise<T>;
  return {
    async openTop(url, hostUrl) {
      target = page;
      // Opened from a page of the host site (its referrer): no confirmation (login-CSRF binding).
      await (page as PwPage).goto(`${new URL(hostUrl).origin}/no-such-page`);
      await (page as PwPage).evaluate((u: string) => void setTimeout(() => location.assign(u), 0), url);
      await until('the launch page', async () => (page as PwPage).url().startsWith(previewOrigin));
    },
    async openFramed(url, hostUrl) {
      await (page as PwPage).goto(`${new URL(hostUrl).origin}/no-such-page`);
      await (page as PwPage).evaluate(embed, url);
      target = (await until(
        'the preview frame',
        async () => (page as PwPage).frames().find((f) => f.url().startsWith(`${previewOrigin}/`)) as AnyFrame | false | undefined,
      )) as AnyFrame;
    },
    run: (fn) => evaluate(target, fn),
    close: closeAll,
  };
}

function webkitDriver(webkit: WebKit): Driver {
  const d: WebDriverClient = webkit.driver;
  return {
    async openTop(url, hostUrl) {
      await d.switchToFrame(null);
      await d.navigate(`${new URL(hostUrl).origin}/no-such-page`);
      await d.execute('location.assign(arguments[0])', [url]);
    },
    async openFramed(url, hostUrl) {
      await d.switchToFrame(null);
      await d.navigate(`${new URL(hostUrl).origin}/no-such-page`);
      await d.call(embed, url);
      await d.switchToFrame(await d.findElement('#preview'));
    },
    run: (fn) => d.call(fn),
    async close() {
      await d.switchToFrame(null).catch(() => undefined);
      await d.navigate('about:blank').catch(() => undefined);
    },
  };
}

function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  return { lines, logger: { info: keep, warn: keep, error: keep } };
}

interface Cell {
  embedding: 'top' | 'iframe';
  worker: boolean;
  expected: Path;
  https?: boolean;
}

/** Runs one cell; returns the timings. `driver` is made for the cell's stack. */
async function runCell(cell: Cell, makeDriver: (stack: BrowserStack) => Promise<Driver>): Promise<Record<string, number>> {
  const { logger, lines } = recordingLogger();
  const stack = await startBrowserStack({ logger, ...(cell.https ? { https: true } : {}) });
  let app: TwoPortApp | undefined;
  let driver: Driver | undefined;
  try {
    app = await startTwoPortApp();
    await stack.emulator.bindPort(stack.sandboxId, TWO_PORT_FRONTEND, { target: app.frontendUrl });
    await stack.emulator.bindPort(stack.sandboxId, TWO_PORT_API, { target: app.apiUrl });
    const apiOrigin = stack.previewOrigin.replace(`//${TWO_PORT_FRONTEND}-`, `//${TWO_PORT_API}-`);
    const res = await stack.api('POST', '/api/previews', {
      sandboxId: stack.sandboxId,
      port: TWO_PORT_FRONTEND,
      ports: [TWO_PORT_FRONTEND, TWO_PORT_API],
      path: '/',
      hostOrigin: stack.host.origin,
    });
    expect(res.status).toBe(201);
    const launch = (await res.json()) as { url: string; origins: Record<string, string> };
    expect(launch.origins[String(TWO_PORT_API)]).toBe(apiOrigin);
    const url = cell.worker ? launch.url : `${launch.url}&sw=0`;

    driver = await makeDriver(stack);
    const d = driver;
    const started = Date.now();
    if (cell.embedding === 'top') await d.openTop(url, stack.host.url);
    else await d.openFramed(url, stack.host.url);
    await until('the two-port checks', () => d.run(done));
    const first = await d.run(results);
    const timing: Record<string, number> = { launchToChecksDone: Date.now() - started };
    const path: Path = !(await d.run(controlled)) ? 'cookie' : (await d.run(grantCookieless)) ? 'worker-only' : 'worker';
    expect(path).toBe(cell.expected);
    const expected = cell.expected === 'cookie' ? COOKIE_OK(first) : ALL_OK;
    expect(first).toEqual(expected);

    // Mid-session expiry: every token and cookie of both origins is past its lifetime.
    stack.advance(stack.accessTtlMs + 5_000);
    const again = Date.now();
    expect(await d.run(rerun)).toEqual(expected);
    timing.afterExpiry = Date.now() - again;

    const hosts = new Set([new URL(stack.previewOrigin).host, new URL(apiOrigin).host]);
    const refused = lines
      .filter((l) => (l.event === 'request' || l.event === 'upgrade') && hosts.has(String(l.host)) && Number(l.status) >= 400)
      .filter((l) => l.code !== 'token_expired' && l.path !== '/favicon.ico')
      .map((l) => `${String(l.status)} ${String(l.host).split('.')[0]} ${String(l.path)} ${String(l.code ?? '')}`);
    const apiLabel = new URL(apiOrigin).host.split('.')[0];
    // The cookie path's one named refusal, once per run (the request sent without credentials).
    const allowed = cell.expected === 'cookie' ? Array(2).fill(`401 ${apiLabel} /api/hello missing_credential`) : [];
    expect(refused).toEqual(allowed);
    // How the sibling's WebSocket authenticated: a ticket asked on the main origin only on the cookie-less path.
    const siblingTickets = lines.filter((l) => l.event === 'request' && String(l.path) === '/__gate/ws-ticket' && l.status === 200).length;
    expect(siblingTickets).toBe(cell.expected === 'worker-only' ? 2 : 0);
    return timing;
  } catch (err) {
    // What the gateway saw, for the diagnosis of a failed cell.
    console.log(
      '[multi-port] gateway log of the failed cell:',
      JSON.stringify(lines.filter((l) => l.event === 'upgrade' || Number(l.status) >= 400 || String(l.host).startsWith('8000-'))),
    );
    throw err;
  } finally {
    await driver?.close().catch(() => undefined);
    await stack.close();
    await app?.close();
  }
}

const timings: Record<string, Record<string, number>> = {};
afterAll(() => {
  if (Object.keys(timings).length) console.log('[multi-port] timings (ms):', JSON.stringify(timings));
});

describe('apps on several ports: Chromium', () => {
  let browser: PwBrowser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  const page = async (stack: BrowserStack) => {
    const context = await browser.newContext();
    return pageDriver(await context.newPage(), stack.previewOrigin, () => context.close());
  };

  it('top level, worker: the API with and without credentials, preflighted, WebSocket, after expiry too; zero failed requests', async () => {
    timings['chromium/top/worker'] = await runCell({ embedding: 'top', worker: true, expected: 'worker' }, page);
  }, 120_000);

  it('top level, no worker (cookie path): the sibling cookie carries credentialed requests and the WebSocket; the uncredentialed request is the one named refusal', async () => {
    timings['chromium/top/cookie'] = await runCell({ embedding: 'top', worker: false, expected: 'cookie' }, page);
  }, 120_000);

  it('cross-site iframe, third-party cookies blocked (no worker there): partitioned sibling cookies', async () => {
    timings['chromium/iframe/cookie'] = await runCell({ embedding: 'iframe', worker: true, expected: 'cookie' }, page);
  }, 120_000);

  it('cross-site iframe, third-party cookies allowed: the worker carries both origins', async () => {
    let persistent: PersistentChromium | undefined;
    try {
      timings['chromium/iframe/worker'] = await runCell({ embedding: 'iframe', worker: true, expected: 'worker' }, async (stack) => {
        persistent = await launchPersistentChromium({ thirdPartyCookies: true });
        return pageDriver(await persistent.context.newPage(), stack.previewOrigin, async () => undefined);
      });
    } finally {
      await persistent?.close();
    }
  }, 120_000);
});

const FIREFOX = firefoxPath();
describe.skipIf(!FIREFOX)(FIREFOX ? 'apps on several ports: Firefox ESR' : 'apps on several ports: Firefox (skipped: no Firefox found)', () => {
  let browser: PpBrowser;
  beforeAll(async () => {
    browser = await launchFirefox();
  }, 60_000);
  afterAll(() => browser?.close());
  const page = async (stack: BrowserStack) => {
    const context = await browser.createBrowserContext();
    return pageDriver(await context.newPage(), stack.previewOrigin, () => context.close());
  };

  it('top level, worker: every check, after expiry too; zero failed requests', async () => {
    timings['firefox/top/worker'] = await runCell({ embedding: 'top', worker: true, expected: 'worker' }, page);
  }, 120_000);

  it('cross-site iframe (Total Cookie Protection), worker: every check; zero failed requests', async () => {
    timings['firefox/iframe/worker'] = await runCell({ embedding: 'iframe', worker: true, expected: 'worker' }, page);
  }, 120_000);
});

const WEBKIT_MISSING = webkitUnavailable();
describe.skipIf(Boolean(WEBKIT_MISSING))(
  WEBKIT_MISSING ? `apps on several ports: WebKit (skipped: ${WEBKIT_MISSING})` : 'apps on several ports: WebKit (WebKitGTK MiniBrowser)',
  () => {
    let webkit: WebKit;
    beforeAll(async () => {
      webkit = await launchWebKit();
    }, 120_000);
    afterAll(() => webkit?.close());

    it('cross-site iframe → worker-only (every cookie refused): sibling tokens, the sibling WebSocket by a ticket; zero failed requests', async () => {
      timings['webkit/iframe/worker-only'] = await runCell({ embedding: 'iframe', worker: true, expected: 'worker-only' }, async () => webkitDriver(webkit));
    }, 180_000);

    it('top level over HTTPS → the main cookie works but WebKitGTK refuses the sibling cookie (set by a same-site fetch): the grant goes cookie-less (worker tokens, tickets); zero failed requests', async () => {
      timings['webkit/top-https/worker-only'] = await runCell({ embedding: 'top', worker: true, expected: 'worker-only', https: true }, async () =>
        webkitDriver(webkit),
      );
    }, 180_000);
  },
);
