/**
 * The app's own Service Worker in Firefox ESR (ARCHITECTURE.md flow 15; Chromium:
 * test/e2e/app-worker.test.ts): the PWA sample app (demo/sandbox-apps/pwa) registers `/sw.js` at
 * scope `/`; the gateway serves it wrapped around its own worker. Top level: the whole story of
 * test/e2e/app-worker-stack.ts#topLevelStory (installed, reload, self-update, every request with
 * the token once the cookies are deleted, expiry, offline page). The host page's cross-site
 * iframe (Total Cookie Protection: the frame's worker and cookies are partitioned).
 *
 * Skipped, with the reason in its name, when no Firefox is installed (best-effort, like
 * test/e2e/firefox.test.ts).
 */
import type { Browser, Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firefoxPath, launchFirefox } from '../support/firefox.js';
import {
  apiCalls,
  appWorkerControls,
  checkForUpdate,
  controllerScript,
  pwaDone,
  pwaState,
  startAppWorkerStack,
  topLevelStory,
  until,
  workerVersion,
  type Probe,
} from './app-worker-stack.js';

const FIREFOX = firefoxPath();
const SUITE = FIREFOX
  ? "the app's own Service Worker in Firefox ESR (flow 15)"
  : "the app's own Service Worker in Firefox (skipped: no Firefox found; apt-get install firefox-esr or set FIREFOX_PATH)";

function probeOf(page: Page, target: Page | Frame = page): Probe {
  return {
    run: (fn) => target.evaluate(fn),
    reload: async () => {
      await target.evaluate(() => setTimeout(() => location.reload(), 0)).catch(() => undefined);
    },
    clearCookies: async () => {
      const cookies = await page.cookies();
      if (cookies.length) await page.deleteCookie(...cookies);
      expect(await page.cookies()).toEqual([]);
    },
  };
}

describe.skipIf(!FIREFOX)(SUITE, { timeout: 150_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchFirefox();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('top level: installed wrapped, does its job, updates itself, carries the token without cookies, offline page; zero failed requests', async () => {
    const env = await startAppWorkerStack();
    const page = await browser.newPage();
    try {
      const { url } = await env.stack.launchUrl('/');
      // Opened from the host page the link was minted for (its referrer): no confirmation.
      await page.goto(`${env.stack.host.url}?worker=off`);
      await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.evaluate((u) => void (location.href = u), url)]);
      await topLevelStory(env, probeOf(page), expect);
    } finally {
      await page.close().catch(() => undefined);
      await env.close();
    }
  });

  it("the host page's cross-site iframe: the app's worker runs wrapped in the frame's partition, updates itself, stays across a relaunch (`worker`); zero failed requests", async () => {
    const env = await startAppWorkerStack();
    const page = await browser.newPage();
    const frameOf = async () => {
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 30_000 });
      const frame = page.frames().find((f) => f.url().startsWith(env.stack.previewOrigin));
      if (!frame) throw new Error('no preview frame');
      return probeOf(page, frame);
    };
    try {
      await page.goto(env.stack.host.url);
      let probe = await frameOf();
      await until(probe, 'the sample page in the frame', pwaDone);
      expect((await probe.run(pwaState)).registered).toBe('ok');
      await until(probe, "the app's worker to control the frame", appWorkerControls);
      expect(new URL((await probe.run(controllerScript))!).pathname).toBe('/sw.js');
      expect(await probe.run(workerVersion)).toBe('v1');
      expect(await probe.run(apiCalls)).toEqual({ statuses: Array(6).fill(200), identity: Array(6).fill(true) });
      // The host page learns the path from the embed's `ready`, which follows the frame's load.
      await page.waitForFunction(() => document.body.dataset.credentialPath !== undefined, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('worker');
      // Its update, inside the frame.
      env.pwa.setVersion('v2');
      expect(await probe.run(checkForUpdate)).toBe(true);
      await until(probe, 'the v2 worker', async () => (await fetch('/sw-version', { cache: 'no-store' }).then((r) => r.json())).version === 'v2');
      // The host page reloads: a new launch in a frame the app's worker controls keeps it.
      await page.reload();
      probe = await frameOf();
      await until(probe, 'the sample page after the relaunch', pwaDone);
      // The host page learns the path from the embed's `ready`, which follows the frame's load.
      await page.waitForFunction(() => document.body.dataset.credentialPath !== undefined, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('worker');
      expect(await probe.run(appWorkerControls)).toBe(true);
      expect(await probe.run(workerVersion)).toBe('v2');
      expect(await probe.run(apiCalls)).toEqual({ statuses: Array(6).fill(200), identity: Array(6).fill(true) });
      expect(env.pwa.requests.some((r) => r.gateCredential)).toBe(false);
      expect(env.failures()).toEqual([]);
    } finally {
      await page.close().catch(() => undefined);
      await env.close();
    }
  });
});
