/**
 * The app's own Service Worker in Chromium (ARCHITECTURE.md flow 15): the PWA sample app
 * (demo/sandbox-apps/pwa) registers `/sw.js` at scope `/`, which replaces the gateway's worker;
 * the gateway serves that script wrapped around its own (broker/core/app-worker.ts), so the
 * app's worker does its job (precache, its own answers, the offline page) and every request
 * still carries the preview's credential.
 *
 * Cells: top level (the full story: install, update, token without cookie, expiry, offline),
 * the host page's cross-site iframe with third-party cookies allowed (the worker registers in
 * the frame), and with them blocked (Playwright's default: no worker registers in the frame,
 * neither ours nor the app's, and the cookie carries everything).
 *
 * Failed requests are counted from the gateway's request log (every answer >= 400 on the
 * preview origin, the app worker's own requests included) and from the page's own events.
 */
import type { Browser, BrowserContext, Frame, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, launchPersistentChromium, type PersistentChromium } from '../support/chromium.js';
import {
  SHELL,
  apiCalls,
  appWorkerActivated,
  appWorkerControls,
  cachedShell,
  checkForUpdate,
  controllerScript,
  makeGrantDue,
  markActiveWorker,
  newWorkerActive,
  onOfflinePage,
  pwaDone,
  pwaState,
  registrationState,
  startAppWorkerStack,
  styled,
  workerVersion,
  type AppWorkerStack,
} from './app-worker-stack.js';
import { openLaunch } from './browser-stack.js';

/** Failed requests the page itself saw (network errors and answers >= 400). */
function watchPage(page: Page): string[] {
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`failed ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`);
  });
  return failed;
}

async function waitFor(target: Page | Frame, what: string, fn: () => unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await target.evaluate(fn)) return;
    } catch (err) {
      last = err; // the document was replaced under the evaluation: not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the app's own Service Worker in Chromium (flow 15)", { timeout: 120_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('top level', () => {
    let env: AppWorkerStack;
    let context: BrowserContext;
    let page: Page;
    let pageFailures: string[];
    beforeAll(async () => {
      env = await startAppWorkerStack();
      context = await browser.newContext();
      page = await context.newPage();
      pageFailures = watchPage(page);
    });
    afterAll(async () => {
      await context?.close();
      await env?.close();
    });

    it("the app's worker, served wrapped, takes over from ours and does its job: precache and its own answers", async () => {
      const { url } = await env.stack.launchUrl('/');
      await openLaunch(page, url, env.stack.host.url);
      await waitFor(page, 'the sample page', pwaDone);
      const state = await page.evaluate(pwaState);
      expect(state.registered).toBe('ok');
      expect(state.api).toEqual({ identity: true, method: 'GET' });
      await waitFor(page, "the app's worker to control the page", appWorkerControls);
      expect(new URL((await page.evaluate(controllerScript))!).pathname).toBe('/sw.js');
      // The browser fetched the script with `Service-Worker: script`, authenticated (cookie).
      const scriptFetches = env.pwa.requests.filter((r) => r.serviceWorker);
      expect(scriptFetches.length).toBeGreaterThanOrEqual(1);
      expect(scriptFetches.every((r) => r.identity && r.path === '/sw.js')).toBe(true);
      // Its own answer, its precache (fetched through our layer, with the token).
      expect(await page.evaluate(workerVersion)).toBe('v1');
      expect(await page.evaluate(cachedShell)).toEqual({ names: ['pwa-sample-v1'], paths: { 'pwa-sample-v1': SHELL } });
      // The bootstrap saw the wrapped worker answer for our layer: the launch reported `worker`.
      expect(env.pwa.requests.some((r) => r.gateCredential)).toBe(false);
      expect(env.failures()).toEqual([]);
      expect(pageFailures).toEqual([]);
    });

    it('a reload through the app worker passes, and a new launch keeps the app worker (reported `worker`)', async () => {
      const from = env.mark();
      await page.reload();
      await waitFor(page, 'the sample page after reload', pwaDone);
      expect((await page.evaluate(pwaState)).api).toEqual({ identity: true, method: 'GET' });
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      // A new launch in the same tab: the bootstrap must not put /__gate/sw.js back over the app's worker.
      const { url } = await env.stack.launchUrl('/');
      await openLaunch(page, url, env.stack.host.url);
      await waitFor(page, 'the sample page after a new launch', pwaDone);
      expect(await page.evaluate(appWorkerControls)).toBe(true);
      expect(await page.evaluate(workerVersion)).toBe('v1');
      expect(env.failures(from)).toEqual([]);
      expect(pageFailures).toEqual([]);
    });

    // The page waits for v2 through the registration's state only: a request through the old
    // worker while Chromium stops it for the activation would restart it and drop that attempt
    // (flow 15; the cell "an update while the page keeps fetching" below covers that case).
    it("the app's worker updates itself (new script bytes → new wrapped worker), with zero failed requests", async () => {
      const from = env.mark();
      await waitFor(page, "the app's worker activated", appWorkerActivated);
      expect(await page.evaluate(markActiveWorker)).toBe(true);
      env.pwa.setVersion('v2');
      expect(await page.evaluate(checkForUpdate)).toBe(true);
      await waitFor(page, 'the v2 worker', newWorkerActive).catch(async (err) => {
        throw new Error(`${String(err)}; registration ${JSON.stringify(await page.evaluate(registrationState))}`);
      });
      expect(await page.evaluate(workerVersion)).toBe('v2');
      // v2 precached its shell and, once active, dropped v1's cache. Nothing of the gateway's
      // (/__gate/ answers) ever reached the app's cache.
      await waitFor(page, "v1's cache to go", async () => (await caches.keys()).every((k) => k !== 'pwa-sample-v1'));
      expect(await page.evaluate(cachedShell)).toEqual({ names: ['pwa-sample-v2'], paths: { 'pwa-sample-v2': SHELL } });
      await page.reload();
      await waitFor(page, 'the sample page under v2', pwaDone);
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      expect(env.failures(from)).toEqual([]);
      expect(pageFailures).toEqual([]);
    });

    it("every request through the app's worker carries the token: with the gateway's cookies deleted the app keeps working", async () => {
      await context.clearCookies();
      expect((await context.cookies()).length).toBe(0);
      const from = env.mark();
      const seen = env.pwa.requests.length;
      await page.reload();
      await waitFor(page, 'the sample page without cookies', pwaDone);
      expect((await page.evaluate(pwaState)).api).toEqual({ identity: true, method: 'GET' });
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      // Answered by the app's worker from the network (the document, its assets) and by our last
      // listener (/api/, which the app's worker leaves alone): all authenticated, no credential leaked.
      const after = env.pwa.requests.slice(seen);
      expect(after.filter((r) => !r.serviceWorker).map((r) => r.identity)).not.toContain(false);
      expect(after.map((r) => r.path)).toEqual(expect.arrayContaining(['/', '/app.js', '/api/whoami']));
      expect(after.some((r) => r.gateCredential)).toBe(false);
      // The only request nothing can carry without the cookie: the browser's own update check of
      // the worker script (a Service Worker never sees it), refused as unauthenticated.
      expect(env.failures(from).filter((f) => !/^401 \/sw\.js missing_credential$/.test(f))).toEqual([]);
      expect(pageFailures).toEqual([]);
    });

    it('an access token expiring mid-session is renewed inside the app worker, zero failed requests', async () => {
      const from = env.mark();
      env.stack.advance(env.stack.accessTtlMs + 5_000);
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      await page.reload();
      await waitFor(page, 'the sample page after expiry', pwaDone);
      expect(env.failures(from).filter((f) => !/^401 \/sw\.js missing_credential$/.test(f))).toEqual([]);
      expect(pageFailures).toEqual([]);
    });

    it("the app's offline page is served by its worker when the app cannot be reached", async () => {
      env.pwa.setDown(true);
      try {
        await page.reload();
        await waitFor(page, 'the offline page', onOfflinePage);
        expect(await page.evaluate(styled)).toBe(true);
        expect(page.url()).toBe(`${env.stack.previewOrigin}/`);
      } finally {
        env.pwa.setDown(false);
      }
      pageFailures.length = 0;
      await page.reload();
      await waitFor(page, 'the sample page once the app is back', pwaDone);
      expect(pageFailures).toEqual([]);
    });
  });

  // Chromium (flow 15, sw/worker/activation-retry.ts): while v2 waits to activate, Chromium
  // stops v1 as soon as its event queue is idle; a request from the page arriving while v1 stops
  // restarts it, and that restart drops the activation with nothing trying again (measured here:
  // with the page fetching continuously, every run; v2 then stayed `installed` for good, and a
  // reload that finally triggered the activation never loaded). Our layer in v1 sees the restart
  // with an update waiting and, once no request reached it for 250 ms, asks v2 to call
  // `skipWaiting()` again (v2 does so only because the app's own code asked for it).
  describe('an update while the page keeps fetching through the old worker', () => {
    let env: AppWorkerStack;
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      env = await startAppWorkerStack();
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
      await env?.close();
    });

    it('activates once the page pauses, without a navigation, with zero failed requests', async () => {
      const failed = watchPage(page);
      const { url } = await env.stack.launchUrl('/');
      await openLaunch(page, url, env.stack.host.url);
      await waitFor(page, 'the sample page', pwaDone);
      await waitFor(page, "the app's worker to control the page, activated", appWorkerActivated);
      const from = env.mark();
      expect(await page.evaluate(markActiveWorker)).toBe(true);
      // Two loops of requests through the app's worker, back to back (an app polling its worker).
      await page.evaluate(() => {
        const w = window as unknown as { __busy: { stop: boolean; seen: Record<string, number>; done: Promise<unknown> } };
        const seen: Record<string, number> = {};
        const loop = async () => {
          while (!w.__busy.stop) {
            const res = await fetch('/sw-version', { cache: 'no-store' });
            const key = `${res.status} ${((await res.json()) as { version: string }).version}`;
            seen[key] = (seen[key] ?? 0) + 1;
          }
        };
        w.__busy = { stop: false, seen, done: Promise.resolve() };
        w.__busy.done = Promise.all([loop(), loop()]);
      });
      env.pwa.setVersion('v2');
      expect(await page.evaluate(checkForUpdate)).toBe(true);
      // v2 installed (it may already have won the race and be active); keep fetching a second more.
      await waitFor(page, 'v2 installed', async () => {
        const reg = await navigator.serviceWorker.getRegistration('/');
        const old = (window as unknown as { __pgActive?: ServiceWorker | null }).__pgActive;
        return reg?.waiting?.state === 'installed' || (reg?.active != null && reg.active !== old);
      });
      await new Promise((r) => setTimeout(r, 1_000));
      const seen = await page.evaluate(async () => {
        const w = window as unknown as { __busy: { stop: boolean; seen: Record<string, number>; done: Promise<unknown> } };
        w.__busy.stop = true;
        await w.__busy.done;
        return w.__busy.seen;
      });
      expect(Object.keys(seen).every((k) => k === '200 v1' || k === '200 v2')).toBe(true);
      expect(seen['200 v1']).toBeGreaterThan(10); // the old worker was busy meanwhile
      // No navigation: the activation happens on its own once the page pauses.
      await waitFor(page, 'the v2 worker', newWorkerActive, 10_000).catch(async (err) => {
        throw new Error(`${String(err)}; registration ${JSON.stringify(await page.evaluate(registrationState))}`);
      });
      expect(await page.evaluate(workerVersion)).toBe('v2');
      await page.reload();
      await waitFor(page, 'the sample page under v2', pwaDone);
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      expect(env.failures(from)).toEqual([]);
      expect(failed).toEqual([]);
    });
  });

  // Chromium activates a waiting worker, skipWaiting or not, only once the active one has no
  // fetch event in flight, and one request of the old worker held on a renewal that never ended
  // held the update (and every later request waiting on the same renewal) for good. Every renewal
  // is bounded now (sw/worker/renew.ts, RENEW_TIMEOUT_MS): this cell makes the network hold the
  // worker's refresh. It used to stall now and then even with the bound: its wait for v2 polled
  // through the old worker, which in Chromium can drop the activation (the cell above; flow 15).
  describe("an update while the old worker's token renewal never gets an answer", () => {
    let env: AppWorkerStack;
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      // Long-lived access tokens: the request below goes on with its still-valid token once the
      // renewal is given up (no 401 `token_expired`, which would renew, and wait, once more).
      env = await startAppWorkerStack({ accessTtlSeconds: 300 });
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
      await env?.close();
    });

    it("an app-worker update activates while the old worker's token renewal hangs, with zero failed requests", { timeout: 150_000 }, async () => {
      const failed = watchPage(page);
      const { url } = await env.stack.launchUrl('/');
      await openLaunch(page, url, env.stack.host.url);
      await waitFor(page, 'the sample page', pwaDone);
      await waitFor(page, "the app's worker to control the page, activated", appWorkerActivated);
      expect(await page.evaluate(workerVersion)).toBe('v1');
      const from = env.mark();
      // The network holds every refresh the workers send (Playwright routes a Service Worker's
      // own requests in Chromium) and the stored grant is due for renewal.
      const held: Route[] = [];
      await context.route('**/__gate/refresh', (route) => void held.push(route));
      expect(await page.evaluate(makeGrantDue)).toBe(true);
      // A request of the page that the old worker (v1) answers (the app's worker leaves /api/ to
      // our last listener): it waits for the renewal first.
      await page.evaluate(() => {
        (window as unknown as { __held: Promise<unknown> }).__held = fetch('/api/whoami?held', { headers: { accept: 'application/json' } }).then(async (r) => ({
          status: r.status,
          identity: ((await r.json()) as { identity?: boolean }).identity === true,
        }));
      });
      // Positive control: the renewal went out and is held, so v1 has a fetch event in flight.
      const deadline = Date.now() + 15_000;
      while (held.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(held.length).toBeGreaterThanOrEqual(1);

      expect(await page.evaluate(markActiveWorker)).toBe(true);
      env.pwa.setVersion('v2');
      expect(await page.evaluate(checkForUpdate)).toBe(true);
      // v2 installs (its precache waits for its own renewal, bounded too) and activates once v1's
      // held request has gone on with its token. Unbounded, v2 stays `installing`/`installed`.
      await waitFor(page, 'the v2 worker', newWorkerActive, 90_000).catch(async (err) => {
        throw new Error(`${String(err)}; registration ${JSON.stringify(await page.evaluate(registrationState))}`);
      });
      expect(await page.evaluate(workerVersion)).toBe('v2');
      expect(await page.evaluate(() => (window as unknown as { __held: Promise<unknown> }).__held)).toEqual({ status: 200, identity: true });
      // v2 precached its shell (through its own renewal, given up after RENEW_TIMEOUT_MS) and dropped v1's cache.
      await waitFor(page, "v1's cache to go", async () => (await caches.keys()).every((k) => k !== 'pwa-sample-v1'));
      expect(await page.evaluate(cachedShell)).toEqual({ names: ['pwa-sample-v2'], paths: { 'pwa-sample-v2': SHELL } });
      expect(held.length).toBeGreaterThanOrEqual(1); // the network never answered a renewal
      expect(env.failures(from)).toEqual([]);
      expect(failed).toEqual([]);
      await context.unroute('**/__gate/refresh');
      await Promise.all(held.map((r) => r.abort().catch(() => undefined)));
    });
  });

  // Module workers (`type: 'module'`: vite-plugin-pwa in development, hand-written ES module
  // workers). Measured: Chromium fetches a module worker's script with credentials `omit` (as the
  // Service Worker spec's Update algorithm says for `module`), so no cookie comes with it and
  // nothing can authenticate it, at top level too: the gateway refuses it (401
  // `missing_credential`) before any wrapping (the module wrapper, a static import,
  // broker/core/app-worker.ts, is only unit-tested), the app's `register()` rejects and our worker
  // keeps the scope and carries every request, as in the cross-site frame below.
  describe("a module app worker (registered with `type: 'module'`)", () => {
    let env: AppWorkerStack;
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      env = await startAppWorkerStack();
      context = await browser.newContext();
      page = await context.newPage();
    });
    afterAll(async () => {
      await context?.close();
      await env?.close();
    });

    it('its script fetch carries no cookie: refused (401), ours keeps serving every request with the token, one refused request', async () => {
      const failed = watchPage(page);
      const { url } = await env.stack.launchUrl('/?module');
      await openLaunch(page, url, env.stack.host.url);
      await waitFor(page, 'the sample page', pwaDone);
      const state = await page.evaluate(pwaState);
      expect(state.registered).toMatch(/^fail:.*401/);
      expect(state.api).toEqual({ identity: true, method: 'GET' });
      expect(new URL((await page.evaluate(controllerScript))!).pathname).toBe('/__gate/sw.js');
      expect(await page.evaluate(workerVersion)).toBe('none');
      // The browser did try: the gateway refused the script fetch, the app never saw it.
      expect(env.pwa.requests.some((r) => r.serviceWorker)).toBe(false);
      expect(env.failures()).toEqual(['401 /sw.js missing_credential']);
      // Positive control: the same script fetched with a credential (the page's own request, through
      // our worker) is served, wrapped as a module: only the missing credential refused it.
      const script = await page.evaluate(async () => {
        const res = await fetch('/sw.js?module', { headers: { 'service-worker': 'script' }, cache: 'no-store' });
        return { status: res.status, kind: res.headers.get('x-preview-gate-app-worker'), text: await res.text() };
      });
      expect(script.status).toBe(200);
      expect(script.kind).toBe('module');
      expect(script.text).toContain("import '/__gate/sw.js';");
      // Our worker carries the session: with the gateway's cookies deleted only its token authenticates.
      await context.clearCookies();
      const from = env.mark();
      await page.reload();
      await waitFor(page, 'the sample page without cookies', pwaDone);
      expect(await page.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      expect(env.failures(from).filter((f) => !/^401 \/sw\.js missing_credential$/.test(f))).toEqual([]);
      expect(failed).toEqual([]);
    });
  });

  describe("the host page's cross-site iframe, third-party cookies allowed (the worker registers in the frame)", () => {
    let env: AppWorkerStack;
    let chromium: PersistentChromium;
    beforeAll(async () => {
      env = await startAppWorkerStack();
      chromium = await launchPersistentChromium({ thirdPartyCookies: true });
    });
    afterAll(async () => {
      await chromium?.close();
      await env?.close();
    });

    // Measured: Chromium sends no cookie (not even the frame's partitioned one) with a worker
    // script fetch in a third-party frame, and a script fetch never passes through a worker.
    // So nothing can authenticate it: the app's registration is refused (401), our worker keeps
    // the scope and carries every request; the app runs without its own worker there.
    it("the app's registration is refused (its script fetch carries no credential), ours keeps serving: `worker`, one refused request", async () => {
      const page = await chromium.context.newPage();
      const failed = watchPage(page);
      await page.goto(env.stack.host.url);
      const frame = await frameOf(page, env.stack.previewOrigin);
      await waitFor(frame, 'the sample page in the frame', pwaDone);
      const state = await frame.evaluate(pwaState);
      expect(state.registered).toMatch(/^fail:.*401/);
      expect(state.api).toEqual({ identity: true, method: 'GET' });
      expect(new URL((await frame.evaluate(controllerScript))!).pathname).toBe('/__gate/sw.js');
      expect(await frame.evaluate(workerVersion)).toBe('none');
      expect(await frame.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      // The host page learns the path from the embed's `ready`, which follows the frame's load.
      await page.waitForFunction(() => document.body.dataset.credentialPath !== undefined, null, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('worker');
      expect(env.pwa.requests.some((r) => r.serviceWorker)).toBe(false);
      expect(env.failures()).toEqual(['401 /sw.js missing_credential']);
      expect(failed).toEqual([]);
      await page.close();
    });
  });

  describe("the host page's cross-site iframe, third-party cookies blocked (no worker can register there)", () => {
    let env: AppWorkerStack;
    beforeAll(async () => {
      env = await startAppWorkerStack();
    });
    afterAll(async () => {
      await env?.close();
    });

    it("the app's registration is refused by the browser, the cookie carries every request, zero failed requests", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const failed = watchPage(page);
      await page.goto(env.stack.host.url);
      const frame = await frameOf(page, env.stack.previewOrigin);
      await waitFor(frame, 'the sample page in the frame', pwaDone);
      const state = await frame.evaluate(pwaState);
      expect(state.registered).toMatch(/^fail:/);
      expect(state.api).toEqual({ identity: true, method: 'GET' });
      expect(await frame.evaluate(controllerScript)).toBeNull();
      expect(await frame.evaluate(apiCalls)).toEqual({ statuses: [200, 200, 200, 200, 200, 200], identity: Array(6).fill(true) });
      // The host page learns the path from the embed's `ready`, which follows the frame's load.
      await page.waitForFunction(() => document.body.dataset.credentialPath !== undefined, null, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('cookie');
      expect(env.failures()).toEqual([]);
      expect(failed).toEqual([]);
      await context.close();
    });
  });
});

/** The preview's frame in the host page, once it is on the preview origin. */
async function frameOf(page: Page, origin: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = page.frames().find((f) => f.url().startsWith(origin) && !f.url().includes('/__gate/'));
    if (frame) return frame;
    if (Date.now() > deadline) throw new Error(`no frame on ${origin}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
