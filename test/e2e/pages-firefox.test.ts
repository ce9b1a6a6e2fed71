/**
 * The pages a person sees, in Firefox ESR (puppeteer-core over WebDriver BiDi): failure pages in
 * a tab (one sentence of what happened, one of what to do, Back to the app to GATE_APP_URL,
 * Reload, the code in small print), a garbage launch code, and the waiting page turning into the
 * app by itself, in a tab and in the host page's frame (`waiting`, then `ready`). Screenshots:
 * test-results/screenshots/firefox-*.png, asserted on visible text. Skips without Firefox.
 */
import type { Browser, Frame, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firefoxPath, launchFirefox } from '../support/firefox.js';
import { APP_PORT, type BrowserStack } from './browser-stack.js';
import { folded, saveScreenshot, startPagesRig, type Site } from './pages-support.js';
import { pollUntil } from '../support/poll.js';

const FIREFOX = firefoxPath();
const SUITE = FIREFOX ? 'pages in Firefox ESR' : 'pages in Firefox (skipped: no Firefox found; apt-get install firefox-esr or set FIREFOX_PATH)';

/** Polls `fn` in the page until truthy; survives the document being replaced (a reload, a launch). */
async function until<T>(target: Page | Frame, what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, () => target.evaluate(fn) as Promise<T>, { timeoutMs });
}

describe.skipIf(!FIREFOX)(SUITE, () => {
  let stack: BrowserStack;
  let browser: Browser;
  let site: Site;

  beforeAll(async () => {
    ({ site, stack, browser } = await startPagesRig(launchFirefox));
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await site?.close();
  });

  const shot = async (page: Page, name: string) => saveScreenshot('firefox', name, await page.screenshot());
  // biome-ignore lint/performance/useDomNodeTextContent: the visible text (innerText) is what is asserted
  const mainText = async (target: Page | Frame) => folded(await target.evaluate(() => document.querySelector('main')?.innerText ?? ''));
  const setApp = (up: boolean) => stack.emulator.bindPort(stack.sandboxId, APP_PORT, up ? 'inspector' : null);
  const appShown = (target: Page | Frame) => until(target, 'the app', () => document.documentElement.dataset.inspectorDone === 'true', 45_000);

  it('no credential: "This preview is private." once, Back to the app to GATE_APP_URL, Reload, the code', async () => {
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 900, height: 640 });
      await page.goto(`${stack.previewOrigin}/`);
      await until(page, 'the failure page', () => document.body?.dataset.gateCode === 'missing_credential');
      const shown = await mainText(page);
      expect(shown).toContain('Acme IDE');
      expect(shown).toContain('This preview is private.');
      expect(shown).not.toContain('no access token, cookie or share link');
      expect(shown).toContain('Back to the app');
      expect(shown).toContain('Reload');
      expect(shown).toContain('Error code: missing_credential');
      await shot(page, 'private-tab');
      await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.click('a[data-action], a.button')]);
      expect(page.url()).toBe(`${site.origin}/app`);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('a garbage launch code says "not valid", never "expired"', async () => {
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 900, height: 640 });
      await page.goto(`${stack.previewOrigin}/__gate/launch#code=garbage&path=%2F`);
      await until(page, 'the failure', () => document.body?.dataset.gateCode === 'invalid_code');
      const shown = await mainText(page);
      expect(shown).toContain('This preview link is not valid.');
      expect(shown).not.toMatch(/expired/i);
      await shot(page, 'launch-invalid');
    } finally {
      await page.close();
    }
  }, 60_000);

  it('waiting in a tab: "Waiting for the app on port 3000", then the app, with no action', async () => {
    await setApp(false);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 900, height: 640 });
      const { url } = await stack.launchUrl('/');
      // Opened from the host page the link was minted for (its referrer): no confirmation.
      await page.goto(`${stack.host.url}?worker=off`);
      await page.evaluate((u) => void (location.href = u), url);
      await until(page, 'the waiting page', () => document.body?.dataset.gatePage === 'waiting');
      const shown = await mainText(page);
      expect(shown).toContain('Waiting for the app on port 3000.');
      expect(shown).toContain('Error code: app_not_listening');
      await shot(page, 'waiting-tab');
      await setApp(true);
      await appShown(page);
      expect(page.url()).toBe(`${stack.previewOrigin}/`);
    } finally {
      await setApp(true);
      await page.close();
    }
  }, 120_000);

  it('waiting in the host page: `waiting`, never `ready` while the app is not there, then `ready`', async () => {
    await setApp(false);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 900, height: 640 });
      await page.goto(`${site.origin}/embed`);
      await until(page, 'the waiting event', () => (window as unknown as { events: string[] }).events.includes('waiting:app_not_listening'));
      await new Promise((r) => setTimeout(r, 2_000));
      const early = await page.evaluate(() => (window as unknown as { events: string[] }).events);
      expect(early).toEqual(['waiting:app_not_listening']);
      await shot(page, 'waiting-embedded');
      await setApp(true);
      await until(page, 'the ready event', () => (window as unknown as { events: string[] }).events.includes('ready:ok'), 45_000);
      const frame = page.frames().find((f) => f.url().startsWith(stack.previewOrigin));
      expect(frame).toBeTruthy();
      await appShown(frame!);
      // The element's default height (its container has none): not an iframe's 150 px.
      expect(await page.evaluate(() => document.getElementById('preview')!.getBoundingClientRect().height)).toBe(480);
    } finally {
      await setApp(true);
      await page.close();
    }
  }, 120_000);
});
