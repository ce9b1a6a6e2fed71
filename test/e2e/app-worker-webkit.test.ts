/**
 * The app's own Service Worker in WebKit (WebKitGTK MiniBrowser under Xvfb, W3C WebDriver:
 * test/support/webkit.ts; ARCHITECTURE.md flow 15; Chromium: test/e2e/app-worker.test.ts).
 *
 * - Top level over HTTPS (where WebKitGTK keeps the `Secure` cookie, so the browser's fetch of the
 *   app's worker script is authenticated): the whole story of
 *   test/e2e/app-worker-stack.ts#topLevelStory (installed wrapped, reload, self-update, every
 *   request with the token once the cookies are deleted, expiry, offline page).
 * - Top level over plain HTTP (`worker-only`: WebKitGTK drops every `Secure` cookie set over
 *   http://*.localhost): as in the frame below, the app's registration is refused and ours serves.
 * - The host page's cross-site iframe (`worker-only`: WebKit refuses every cookie there): the
 *   browser's fetch of the app's worker script carries no credential (a script fetch never passes
 *   through a worker), so the app's registration is refused (401) and ours keeps the scope and
 *   carries every request; the app runs without its own worker there.
 *
 * Failed requests come from the gateway's request log (WebDriver classic has no network events).
 * Skipped, with the reason in its name, when WebKit is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, webkitUnavailable, type WebDriverClient, type WebKit } from '../support/webkit.js';
import {
  apiCalls,
  controllerScript,
  pwaDone,
  pwaState,
  startAppWorkerStack,
  topLevelStory,
  until,
  workerVersion,
  type AppWorkerStack,
  type Probe,
} from './app-worker-stack.js';

const MISSING = webkitUnavailable();
const SUITE = MISSING
  ? `the app's own Service Worker in WebKit (skipped: ${MISSING})`
  : "the app's own Service Worker in WebKit (WebKitGTK MiniBrowser, flow 15)";

function probeOf(d: WebDriverClient): Probe {
  return {
    run: (fn) => d.call(fn),
    reload: async () => {
      await d.execute('setTimeout(() => location.reload(), 0); return true;');
    },
    clearCookies: async () => {
      // WebKitGTK deletes asynchronously: by name, then until none is left.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const left = await d.command<{ name: string }[]>('GET', '/cookie');
        if (left.length === 0) return;
        if (Date.now() > deadline) throw new Error(`cookies left: ${left.map((c) => c.name).join(', ')}`);
        for (const c of left) await d.command('DELETE', `/cookie/${encodeURIComponent(c.name)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/**
 * Where no cookie comes with the browser's fetch of the app's worker script (`worker-only`):
 * the app's registration is refused (401, the one failed request), our worker keeps the scope
 * and every request of the page carries the token.
 */
async function expectAppWorkerRefusedOursServing(probe: Probe, env: AppWorkerStack): Promise<void> {
  const state = await probe.run(pwaState);
  expect(state.registered).toMatch(/^fail:/);
  expect(state.api).toEqual({ identity: true, method: 'GET' });
  expect(new URL((await probe.run(controllerScript))!).pathname).toBe('/__gate/sw.js');
  expect(await probe.run(workerVersion)).toBe('none');
  expect(await probe.run(apiCalls)).toEqual({ statuses: Array(6).fill(200), identity: Array(6).fill(true) });
  expect(env.pwa.requests.some((r) => r.serviceWorker)).toBe(false);
  expect(env.failures()).toEqual(['401 /sw.js missing_credential']);
}

describe.skipIf(Boolean(MISSING))(SUITE, { timeout: 180_000 }, () => {
  let webkit: WebKit;
  beforeAll(async () => {
    webkit = await launchWebKit();
  });
  afterAll(async () => {
    await webkit?.close();
  });

  it('top level over HTTPS: installed wrapped, does its job, updates itself, carries the token without cookies, offline page; zero failed requests', async () => {
    const env = await startAppWorkerStack({ https: true });
    const d = webkit.driver;
    try {
      const { url } = await env.stack.launchUrl('/');
      // Navigated from a page of the host site (the launch link's referrer binding), as webkit.test.ts does.
      await d.navigate(`${new URL(env.stack.host.url).origin}/no-such-page`);
      await d.execute('location.assign(arguments[0])', [url]);
      await topLevelStory(env, probeOf(d), expect);
    } finally {
      await d.navigate('about:blank').catch(() => undefined);
      await env.close();
    }
  });

  it("top level over plain HTTP (`worker-only`: WebKitGTK drops every `Secure` cookie there): the app's registration is refused, ours carries every request; one refused request", async () => {
    const env = await startAppWorkerStack();
    const d = webkit.driver;
    try {
      await d.switchToFrame(null);
      const { url } = await env.stack.launchUrl('/');
      await d.navigate(`${new URL(env.stack.host.url).origin}/no-such-page`);
      await d.execute('location.assign(arguments[0])', [url]);
      const probe = probeOf(d);
      await until(probe, 'the sample page at top level', pwaDone);
      // No cookie survived, so the browser's own fetch of the app's worker script (which never
      // passes through a worker) carries no credential: refused, and our worker keeps the scope.
      expect(await d.command<unknown[]>('GET', '/cookie')).toEqual([]);
      await expectAppWorkerRefusedOursServing(probe, env);
    } finally {
      await d.navigate('about:blank').catch(() => undefined);
      await env.close();
    }
  });

  it("the host page's cross-site iframe (`worker-only`): the app's registration is refused (its script fetch carries no credential), ours keeps serving; one refused request", async () => {
    const env = await startAppWorkerStack();
    const d = webkit.driver;
    try {
      await d.switchToFrame(null);
      await d.navigate(env.stack.host.url);
      const probeTop = probeOf(d);
      await until(probeTop, 'the embed to be ready', () => document.body.dataset.previewState === 'ready');
      expect(await d.execute<string>('return document.body.dataset.credentialPath')).toBe('worker-only');
      const frame = await d.execute<Parameters<WebDriverClient['switchToFrame']>[0]>(
        "return document.getElementById('preview').shadowRoot.querySelector('iframe')",
      );
      await d.switchToFrame(frame);
      const probe = probeOf(d);
      await until(probe, 'the sample page in the frame', pwaDone);
      await expectAppWorkerRefusedOursServing(probe, env);
    } finally {
      await d.switchToFrame(null).catch(() => undefined);
      await d.navigate('about:blank').catch(() => undefined);
      await env.close();
    }
  });
});
