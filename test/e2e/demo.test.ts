/**
 * `npm run demo` as a person uses it, in Chromium: every state of the demo host page, each
 * photographed by the test (test-results/demo/*.png, gitignored) and checked by the text a
 * person reads there. One demo process on free ports, one browser, for the file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../protocol/errors.js';
import { launchChromium } from '../support/chromium.js';
import { ROOT, startDemoProcess, type DemoProcess } from './demo-process.js';
import { ALL_OK, inspectorResults } from './inspector.js';

/**
 * The waiting page for a port with nothing listening (`app_not_listening`) comes with issue 14
 * item 1; once the gateway has that code, the demo must show the `waiting` state.
 */
const GATEWAY_HAS_WAITING_PAGE = 'app_not_listening' in ERROR_STATUS;
const SHOTS = join(ROOT, 'test-results', 'demo');
let demo: DemoProcess;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [demo, browser] = await Promise.all([
    startDemoProcess('demo/main.ts', { EMULATOR_PORT: '0', GATE_PORT: '0', DEMO_HOST_PORT: '0' }, 'DEMO_USER'),
    launchChromium(),
  ]);
  if (!demo.lines.has('DEMO_USER')) throw new Error(`the demo did not start:\n${demo.stderr()}`);
}, 150_000);
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

const line = (name: string): string => {
  const v = demo.lines.get(name);
  if (!v) throw new Error(`the demo printed no ${name}`);
  return v;
};
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

async function withPage<T>(fn: (page: Page, context: BrowserContext) => Promise<T>, query = ''): Promise<T> {
  // query: appended to HOST_PAGE_URL (`?port=8000`, or a path such as `launch?port=1`).
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(`${line('HOST_PAGE_URL')}${query}`);
    return await fn(page, context);
  } finally {
    await context.close();
  }
}

/** The preview's frame on sandbox port `port`. */
function previewFrame(page: Page, port: number): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(`http://${port}-`));
  if (!frame) throw new Error(`no preview frame for port ${port}`);
  return frame;
}

const ready = (page: Page) => page.waitForSelector('body[data-preview-state="ready"]', { timeout: 30_000 });
const visibleText = (page: Page, selector: string) => page.locator(selector).innerText();
const background = (page: Page, selector: string) => page.locator(selector).evaluate((el) => getComputedStyle(el).backgroundColor);
/** True when the colour is clearly green (more green than red and blue). */
function isGreen(rgb: string): boolean {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number) as [number, number, number];
  return g > r + 40 && g > b + 40;
}

describe('npm run demo: what it prints', () => {
  it('says which URL to open first, before the NAME=VALUE lines', () => {
    const out = demo.stdout();
    const first = out.indexOf(`Open this first: ${line('HOST_PAGE_URL')}`);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(out.indexOf('DAYTONA_API_URL='));
  });

  it('prints the launch URL with its expiry, and a FRESH_LAUNCH_URL that never goes stale', async () => {
    const expires = Date.parse(line('PREVIEW_LAUNCH_EXPIRES_AT'));
    expect(expires).toBeGreaterThan(Date.now() - 120_000);
    expect(expires).toBeLessThan(Date.now() + 61_000);
    const when = new Date(expires).toISOString().slice(11, 19);
    expect(demo.stdout()).toContain(`# One-time, valid until ${when} UTC (60 s). Later, open FRESH_LAUNCH_URL`);
    expect(line('FRESH_LAUNCH_URL')).toBe(`${line('HOST_PAGE_URL')}launch?port=3000`);
  });
});

describe("the demo host page's sandbox controls", () => {
  it("a control POST from another site (or with no Origin) is refused; the page's own origin is obeyed", async () => {
    const host = line('HOST_PAGE_URL');
    const post = (path: string, origin?: string) => fetch(new URL(path, host), { method: 'POST', headers: origin ? { origin } : {} });
    const running = async () => ((await (await fetch(new URL('/demo/status', host))).json()) as { devServer: { running: boolean } }).devServer.running;
    expect(await running()).toBe(false);
    for (const origin of ['http://attacker.example', 'null', undefined]) {
      const res = await post('/demo/dev-server/start', origin);
      expect(res.status).toBe(403);
      expect(await running()).toBe(false);
    }
    const res = await post('/demo/dev-server/start', new URL(host).origin);
    expect(res.status).toBe(200);
    expect(await running()).toBe(true);
    expect((await post('/demo/dev-server/stop', new URL(host).origin)).status).toBe(200);
    expect(await running()).toBe(false);
  });
});

describe('the demo host page, state by state (screenshots in test-results/demo)', { timeout: 120_000 }, () => {
  it('the printed PREVIEW_LAUNCH_URL, opened as it is: a page with a next step (confirm while valid, else expired)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const valid = Date.now() < Date.parse(line('PREVIEW_LAUNCH_EXPIRES_AT')) - 15_000;
      await page.goto(line('PREVIEW_LAUNCH_URL'));
      await page.waitForSelector(valid ? 'button' : 'body[data-gate-code]', { timeout: 30_000 });
      await shot(page, valid ? '00-printed-launch-url-confirm' : '00-printed-launch-url-expired');
      if (valid) {
        // Opened from a terminal, not from the host page: the person confirms (login-CSRF defence).
        expect(await page.locator('body').innerText()).toContain('demo-user');
        await page.locator('button', { hasText: /continue/i }).click();
        expect(await inspectorResults(page)).toEqual(ALL_OK);
      } else {
        expect(await page.locator('body').innerText()).toMatch(/expired|invalid/i);
        expect(await page.locator('button, a').count()).toBeGreaterThan(0);
      }
    } finally {
      await context.close();
    }
  });

  it('ready: the preview shows the app and the state badge is green', async () => {
    await withPage(async (page) => {
      await ready(page);
      await page.waitForSelector('body[data-sandbox-state="started"][data-dev-server="not-running"]');
      expect(await inspectorResults(previewFrame(page, 3000))).toEqual(ALL_OK);
      expect(await visibleText(page, '#preview-state')).toBe('ready');
      expect(isGreen(await background(page, '#preview-state'))).toBe(true);
      expect(await visibleText(page, '#sandbox-state')).toBe('started');
      expect(isGreen(await background(page, '#sandbox-state'))).toBe(true);
      expect(await visibleText(page, '#dev-server-state')).toBe('not started');
      await shot(page, '01-ready');
    });
  });

  it('a share-link TTL outside the bounds is refused in the form, naming the bounds; nothing is created', async () => {
    await withPage(async (page) => {
      await ready(page);
      expect(await visibleText(page, '#share-ttl-range')).toBe('In seconds, from 60 (1 min) to 2592000 (30 days).');
      let posts = 0;
      page.on('request', (r) => void (r.method() === 'POST' && r.url().endsWith('/api/shares') && posts++));
      await page.fill('#share-ttl', '30');
      await page.click('#share-create');
      expect(await visibleText(page, '#share-error')).toBe('Too short: a share link lives at least 60 s (1 min).');
      await shot(page, '02-ttl-too-short');
      await page.fill('#share-ttl', '99999999');
      await page.click('#share-create');
      expect(await visibleText(page, '#share-error')).toBe('Too long: a share link lives at most 2592000 s (30 days).');
      // Positive control: a TTL inside the bounds is accepted and clears the message.
      await page.fill('#share-ttl', '600');
      await page.click('#share-create');
      await page.waitForSelector('#new-share:not([hidden])');
      expect(await page.locator('#share-error').isHidden()).toBe(true);
      expect(posts).toBe(1);
    });
  });

  it('a new share link is shown once with a Copy button and the list keeps it visible; a long URL stays inside the sidebar', async () => {
    await withPage(async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(line('HOST_PAGE_URL')).origin });
      await ready(page);
      await page.fill('#share-ttl', '86400');
      await page.click('#share-create');
      await page.waitForSelector('#new-share:not([hidden])');
      const url = await visibleText(page, '#new-share-url');
      expect(url).toMatch(/^http:\/\/3000-.*__gate_share=/);
      expect(url.length).toBeGreaterThan(300);
      expect(await visibleText(page, '#new-share')).toContain('Copy it now: the link is shown only this once.');
      await page.click('#new-share-copy');
      // The clipboard write is asynchronous: the line appears once it has been done.
      await page.waitForFunction(() => document.querySelector('#new-share-copied')?.textContent !== '', null, { timeout: 15_000 });
      expect(await visibleText(page, '#new-share-copied')).toBe('Copied to the clipboard.');
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
      // The list shows the link (this page made it), its expiry and a Revoke button.
      const item = page.locator('#shares li', { hasText: url.slice(0, 60) });
      expect(await item.locator('a').getAttribute('href')).toBe(url);
      expect(await item.innerText()).toMatch(/Expires .*, opened 0×/);
      // No overflow: nothing in the sidebar is wider than the sidebar.
      const overflow = await page.evaluate(() => {
        const aside = document.querySelector('aside')!;
        const right = aside.getBoundingClientRect().right;
        const wider = [...aside.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > right + 1).map((el) => el.id || el.tagName);
        return { scroll: aside.scrollWidth - aside.clientWidth, wider };
      });
      expect(overflow).toEqual({ scroll: 0, wider: [] });
      await shot(page, '03-share-created');
      // After a reload the link itself is gone (the gateway keeps its hash only): the list says so.
      await page.reload();
      await ready(page);
      await page.waitForSelector('#shares li');
      const text = await visibleText(page, '#shares');
      expect(text).toContain('(shown once, when it was created)');
      expect(text).not.toContain('__gate_share=');
      await page.locator('#shares').scrollIntoViewIfNeeded();
      await shot(page, '04-shares-after-reload');
      // Revoke them all (the list re-renders after each).
      while ((await page.locator('#shares li').count()) > 0) {
        const before = await page.locator('#shares li').count();
        await page.locator('#shares li button').first().click();
        await page.waitForFunction((n) => document.querySelectorAll('#shares li').length < n, before);
      }
      await page.waitForSelector('#shares-empty:not([hidden])');
      expect(await visibleText(page, '#shares-empty')).toBe('No active share links for this sandbox.');
    });
  });

  it('stop and start the sample sandbox from the page: the states show, and the preview comes back', async () => {
    await withPage(async (page) => {
      await ready(page);
      await page.click('#sandbox-stop');
      await page.waitForSelector('body[data-sandbox-state="stopped"]', { timeout: 30_000 });
      expect(await visibleText(page, '#sandbox-state')).toBe('stopped');
      expect(isGreen(await background(page, '#sandbox-state'))).toBe(false);
      expect(await page.locator('#sandbox-start').isEnabled()).toBe(true);
      expect(await page.locator('#sandbox-stop').isEnabled()).toBe(false);
      // The preview reloads against the stopped sandbox: whatever the gateway answers, not the app.
      await page.waitForFunction(() => document.body.dataset.previewState !== 'loading', undefined, { timeout: 30_000 });
      await page.waitForSelector('body[data-last-code="sandbox_stopped"]', { timeout: 30_000 });
      expect(await visibleText(page, '#preview-state')).toBe('sandbox stopped');
      await shot(page, '05-sandbox-stopped');
      await page.click('#sandbox-start');
      await page.waitForSelector('body[data-sandbox-state="started"]', { timeout: 30_000 });
      await ready(page);
      expect(await inspectorResults(previewFrame(page, 3000))).toEqual(ALL_OK);
      await shot(page, '06-sandbox-started-again');
    });
  });

  it('a dev server started late: the preview waits for port 8000, then shows the app', async () => {
    await withPage(async (page) => {
      await page.waitForSelector('body[data-dev-server="not-running"]');
      expect(await visibleText(page, '#dev-server-hint')).toContain('Nothing listens on this port yet: the preview waits for it.');
      // Give the preview time to show what the gateway answers for a port with nothing behind it.
      await page.waitForFunction(() => document.body.dataset.previewState !== 'loading', undefined, { timeout: 30_000 });
      await page.waitForTimeout(1500);
      await shot(page, '07-dev-server-not-started');
      if (GATEWAY_HAS_WAITING_PAGE) {
        // Issue 14 item 1 (the gateway's waiting page and the embed's `waiting` event).
        await page.waitForSelector('body[data-preview-state="waiting"]', { timeout: 30_000 });
        expect(await visibleText(page, '#preview-state')).toBe('waiting for the app on port 8000');
      }
      await page.click('#dev-server-start');
      await page.waitForSelector('body[data-dev-server="running"]');
      expect(await visibleText(page, '#dev-server-state')).toBe('listening');
      await page.waitForFunction(() => document.documentElement && document.body.dataset.previewState === 'ready', undefined, { timeout: 30_000 });
      expect(await inspectorResults(previewFrame(page, 8000))).toEqual(ALL_OK);
      await shot(page, '08-dev-server-started');
      await page.click('#dev-server-stop');
      await page.waitForSelector('body[data-dev-server="not-running"]');
    }, '?port=8000');
  });

  it("End session: the embed's own ended panel covers the frame (no second overlay from the page) and its Start again brings the app back", async () => {
    await withPage(async (page) => {
      await ready(page);
      await page.click('#end-session');
      await page.waitForSelector('body[data-preview-state="ended"]');
      expect(await visibleText(page, '#preview-state')).toBe('session ended');
      // One panel only: the embed's (inside <preview-frame>'s shadow root), the page's own overlay stays hidden.
      const panel = page.locator('preview-frame [data-preview-gate="ended"]');
      await panel.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await panel.innerText()).toContain('This preview session was ended.');
      expect(await page.locator('#overlay').isHidden()).toBe(true);
      await shot(page, '09-session-ended');
      await panel.getByRole('button', { name: 'Start again' }).click();
      await ready(page);
      expect(await panel.isHidden()).toBe(true);
      expect(await page.locator('#overlay').isHidden()).toBe(true);
      expect(await inspectorResults(previewFrame(page, 3000))).toEqual(ALL_OK);
    });
  });

  it('the two-port sample (frontend 3100, API 8100) is a tab: one launch grants both ports, the API answers the frontend', async () => {
    await withPage(async (page) => {
      expect(await page.locator('#apps a', { hasText: 'Two ports' }).count()).toBe(1);
      await ready(page);
      const frame = previewFrame(page, 3100);
      await frame.waitForFunction(() => document.body?.dataset.done === 'true', undefined, { timeout: 30_000 });
      const results = await frame.evaluate(() => (window as unknown as { __twoPort: Record<string, { status: number; body: unknown }> }).__twoPort);
      const ok = { port: 8100, path: '/api/hello', identity: true, leaked: [] };
      expect(results.credentialed).toEqual({ status: 200, body: ok });
      expect(results.websocket).toEqual({ status: 101, body: 'ping' });
      await shot(page, '12-two-ports');
    }, '?port=3100');
  });

  it('a launch page that cannot open the preview says so, with the way back', async () => {
    await withPage(async (page) => {
      await page.waitForSelector('#error:not([hidden])');
      expect(await visibleText(page, 'h1')).toBe('The preview could not be opened');
      expect(await visibleText(page, '#error')).toBe('"99999" is not a port number');
      expect(await page.locator('a', { hasText: 'Back to the demo IDE' }).isVisible()).toBe(true);
      await shot(page, '11-launch-page-error');
    }, 'launch?port=99999');
  });

  it('FRESH_LAUNCH_URL opens the app in a tab of its own, every time (a new one-time link per visit)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      for (const n of [1, 2]) {
        const page = await context.newPage();
        await page.goto(line('FRESH_LAUNCH_URL'));
        await page.waitForURL(`${line('PREVIEW_ORIGIN')}/`, { timeout: 30_000 });
        expect(await inspectorResults(page)).toEqual(ALL_OK);
        if (n === 1) await shot(page, '10-fresh-launch');
        await page.close();
      }
    } finally {
      await context.close();
    }
  });
});
