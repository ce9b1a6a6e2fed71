/**
 * What a person sees, in Chromium (issue 14): the waiting page that turns into the app by
 * itself (in a tab and in the host page's frame, with the embed's `waiting` then `ready`),
 * failure pages that say what happened once and always offer a way out, the embed's default
 * size and its ended state after "End session". Every state is screenshotted to
 * test-results/screenshots/chromium-*.png and asserted on its visible text.
 */
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, openLaunch, type BrowserStack } from './browser-stack.js';
import { folded, saveScreenshot, startPagesRig, type Site } from './pages-support.js';

let stack: BrowserStack;
let browser: Browser;
let site: Site;

beforeAll(async () => {
  ({ site, stack, browser } = await startPagesRig(launchChromium));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await site?.close();
});

async function withContext<T>(fn: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
  try {
    return await fn(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

const shot = async (page: Page, name: string) => saveScreenshot('chromium', name, await page.screenshot());
const appShown = (target: Page | Frame) => target.waitForSelector('html[data-inspector-done="true"]', { timeout: 45_000 });
// biome-ignore lint/performance/useDomNodeTextContent: the visible text (innerText) is what is asserted
const text = async (target: Page | Frame, selector = 'main') => folded(await target.innerText(selector));
const events = (page: Page) => page.evaluate(() => (window as unknown as { events: string[] }).events);
const previewFrame = (page: Page) => page.frames().find((f) => f.url().startsWith(stack.previewOrigin)) ?? null;
const setApp = (up: boolean) => stack.emulator.bindPort(stack.sandboxId, APP_PORT, up ? 'inspector' : null);

describe('waiting for the app: the page shows, the app starts, the page becomes the app', () => {
  it('in a tab of its own: "Waiting for the app on port 3000", then the app, with no action', async () => {
    await setApp(false);
    try {
      await withContext(async (page) => {
        const { url } = await stack.launchUrl('/');
        await openLaunch(page, url, stack.host.url);
        await page.waitForSelector('body[data-gate-page="waiting"]', { timeout: 30_000 });
        const shown = await text(page);
        expect(shown).toContain('Acme IDE');
        expect(shown).toContain('Waiting for the app on port 3000.');
        expect(shown).toContain('This page opens the app as soon as it answers');
        expect(shown).toContain('Reload');
        expect(shown).toContain('Error code: app_not_listening');
        await page.waitForFunction(() => /Checking again in \d+ s/.test(document.querySelector('.progress')?.textContent ?? ''), undefined, {
          timeout: 10_000,
        });
        await shot(page, 'waiting-tab');
        await setApp(true);
        await appShown(page);
        expect(page.url()).toBe(`${stack.previewOrigin}/`);
      });
    } finally {
      await setApp(true);
    }
  }, 120_000);

  it('in the host page: the embed says `waiting` (never `ready` while the app is not there), then `ready` when the frame becomes the app', async () => {
    await setApp(false);
    try {
      await withContext(async (page) => {
        await page.goto(`${site.origin}/embed`);
        await page.waitForFunction(() => (window as unknown as { events: string[] }).events.includes('waiting:app_not_listening'), undefined, {
          timeout: 30_000,
        });
        const frame = previewFrame(page)!;
        await frame.waitForSelector('body[data-gate-page="waiting"]');
        const inFrame = await text(frame);
        expect(inFrame).toContain('Waiting for the app on port 3000.');
        expect(inFrame).not.toContain('Back to the app'); // it would open the host app inside the frame
        // Give a wrong `ready` every chance to show up: the page keeps checking meanwhile.
        await page.waitForTimeout(2_500);
        expect(await events(page)).toEqual(['waiting:app_not_listening']);
        expect(await page.evaluate(() => (document.getElementById('preview') as unknown as { state: string }).state)).toBe('waiting');
        await shot(page, 'waiting-embedded');
        await setApp(true);
        await page.waitForFunction(() => (window as unknown as { events: string[] }).events.includes('ready:ok'), undefined, { timeout: 45_000 });
        await appShown(previewFrame(page)!);
        expect(await events(page)).toEqual(['waiting:app_not_listening', 'ready:ok']);
        await shot(page, 'app-embedded');
      });
    } finally {
      await setApp(true);
    }
  }, 120_000);
});

describe('the embed: default size, End session', () => {
  it('<preview-frame> in a container with no height is 480 px tall (not 150) and as wide as the container', async () => {
    await withContext(async (page) => {
      await page.goto(`${site.origin}/embed`);
      await page.waitForFunction(() => (window as unknown as { events: string[] }).events.includes('ready:ok'), undefined, { timeout: 30_000 });
      const size = await page.evaluate(() => {
        const el = document.getElementById('preview')!;
        const frame = el.shadowRoot!.querySelector('iframe')!;
        return { el: el.getBoundingClientRect().height, frame: frame.getBoundingClientRect().height, width: frame.getBoundingClientRect().width };
      });
      expect(size.el).toBe(480);
      expect(size.frame).toBe(480);
      expect(size.width).toBe(900);
      // In a container with a height, it fills it.
      await page.evaluate(() => void (document.getElementById('container')!.style.height = '600px'));
      expect(await page.evaluate(() => document.getElementById('preview')!.shadowRoot!.querySelector('iframe')!.getBoundingClientRect().height)).toBe(600);
    });
  }, 60_000);

  it('after End session the frame no longer shows the app: an ended panel with Start again, and no new session by itself', async () => {
    await withContext(async (page) => {
      await page.goto(`${site.origin}/embed`);
      await page.waitForFunction(() => (window as unknown as { events: string[] }).events.includes('ready:ok'), undefined, { timeout: 30_000 });
      await page.click('#end');
      await page.waitForSelector('preview-frame [data-preview-gate="ended"]', { state: 'visible', timeout: 10_000 });
      // biome-ignore lint/performance/useDomNodeTextContent: the visible text (innerText) is what is asserted
      const panel = folded(await page.innerText('preview-frame [data-preview-gate="ended"]'));
      expect(panel).toContain('This preview session was ended.');
      expect(panel).toContain('Start again');
      expect(previewFrame(page)).toBeNull(); // the frame left the preview (about:blank)
      await page.waitForTimeout(1_500);
      expect(await events(page)).toEqual(['ready:ok', 'expired:session_revoked']);
      await shot(page, 'ended-embedded');
      await page.click('preview-frame >> text=Start again');
      await page.waitForFunction(() => (window as unknown as { events: string[] }).events.filter((e) => e === 'ready:ok').length === 2, undefined, {
        timeout: 30_000,
      });
      expect(await page.isVisible('preview-frame [data-preview-gate="ended"]')).toBe(false);
      await appShown(previewFrame(page)!);
    });
  }, 90_000);
});

describe('failure pages in a tab: one sentence of what happened, one of what to do, a way out that works', () => {
  it('no credential: "This preview is private.", and Back to the app goes to GATE_APP_URL in a tab with no history', async () => {
    await withContext(async (page) => {
      await page.goto(`${stack.previewOrigin}/`);
      await page.waitForSelector('body[data-gate-code="missing_credential"]');
      const shown = await text(page);
      expect(shown).toContain('This preview is private.');
      expect(shown).toContain('Open it from the app that created it, or follow a share link.');
      expect(shown).not.toContain('no access token, cookie or share link'); // said once, not twice
      expect(shown).toContain('Error code: missing_credential');
      await shot(page, 'private-tab');
      await page.click('text=Back to the app');
      await page.waitForURL(`${site.origin}/app`);
      // biome-ignore lint/performance/useDomNodeTextContent: the visible text (innerText) is what is asserted
      expect(await page.innerText('h1')).toBe('Acme IDE home');
    });
  }, 60_000);

  it('a garbage launch code says "not valid", never "expired"; a spent well-formed one says "expired or was already used"', async () => {
    await withContext(async (page) => {
      await page.goto(`${stack.previewOrigin}/__gate/launch#code=garbage&path=%2F`);
      await page.waitForSelector('body[data-gate-code="invalid_code"]');
      const garbage = await text(page);
      expect(garbage).toContain('This preview link is not valid.');
      expect(garbage).not.toMatch(/expired/i);
      expect(garbage).toContain('Reload');
      await shot(page, 'launch-invalid');
      const spent = 'A'.repeat(43);
      // Another page first: from the same URL, a new fragment alone would not reload the page.
      await page.goto('about:blank');
      await page.goto(`${stack.previewOrigin}/__gate/launch#code=${spent}&path=%2F`, { referer: stack.host.url });
      await page.waitForSelector('body[data-gate-code="invalid_code"]');
      expect(await text(page)).toContain('This preview link has expired or was already used.');
      await shot(page, 'launch-expired');
    });
  }, 60_000);

  it('a launch link opened again in a browser that holds a live session for that preview goes to the app', async () => {
    await withContext(async (page, context) => {
      const { url } = await stack.launchUrl('/');
      await openLaunch(page, url, stack.host.url);
      await appShown(page);
      const again = await context.newPage();
      await openLaunch(again, url, stack.host.url);
      await appShown(again);
      expect(again.url()).toBe(`${stack.previewOrigin}/`);
      // Positive control: the same spent link in a browser without a session fails, as "expired or used".
      await withContext(async (fresh) => {
        await openLaunch(fresh, url, stack.host.url);
        await fresh.waitForSelector('body[data-gate-code="invalid_code"]');
        expect(await text(fresh)).toContain('This preview link has expired or was already used.');
      });
    });
  }, 90_000);

  it('after logout, the page offers Back to the app and Reload', async () => {
    await withContext(async (page) => {
      const { url } = await stack.launchUrl('/');
      await openLaunch(page, url, stack.host.url);
      await appShown(page);
      await page.evaluate(async () => {
        await fetch('/__gate/logout', { method: 'POST' });
        for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
      });
      await page.reload();
      await page.waitForSelector('body[data-gate-page="error"]');
      const shown = await text(page);
      expect(shown).toContain('Back to the app');
      expect(shown).toContain('Reload');
      await shot(page, 'after-logout');
    });
  }, 60_000);

  it('a share link reloaded after its end says "This share link has expired."', async () => {
    const res = await stack.api('POST', '/api/shares', { sandboxId: stack.sandboxId, port: APP_PORT, ttlSeconds: 60 });
    const share = (await res.json()) as { url: string };
    await withContext(async (page) => {
      await page.goto(share.url);
      await appShown(page);
      stack.advance(61_000);
      try {
        await page.reload();
        await page.waitForSelector('body[data-gate-code="share_expired"]');
        const shown = await text(page);
        expect(shown).toContain('This share link has expired.');
        expect(shown).not.toContain('not signed in');
        await shot(page, 'share-expired');
      } finally {
        stack.advance(-61_000);
      }
    });
  }, 60_000);
});
