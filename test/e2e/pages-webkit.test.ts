/**
 * The pages a person sees, in WebKit (WebKitGTK MiniBrowser over W3C WebDriver, under Xvfb;
 * test/support/webkit.ts): failure pages in a tab (one sentence of what happened, one of what to
 * do, Back to the app to GATE_APP_URL, Reload, the code in small print), a garbage launch code,
 * storage_refused at top level (not "embedded"/"inside the app"), and the waiting page turning
 * into the app by itself in a tab. Screenshots: test-results/screenshots/webkit-*.png, asserted on
 * visible text. Skips (with the reason) where WebKit is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, webkitUnavailable, type WebDriverClient, type WebKit } from '../support/webkit.js';
import { APP_PORT, type BrowserStack } from './browser-stack.js';
import { folded, saveScreenshot, startPagesRig, type Site } from './pages-support.js';
import { pollUntil } from '../support/poll.js';

const MISSING = webkitUnavailable();
const SUITE = MISSING ? `pages in WebKit (skipped: ${MISSING})` : 'pages in WebKit (WebKitGTK MiniBrowser)';

/** Polls a self-contained page-side function until truthy (survives navigations). */
async function until<T>(driver: WebDriverClient, what: string, fn: () => T, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, () => driver.call(fn) as Promise<T>, { timeoutMs });
}

function mainText(): string {
  // biome-ignore lint/performance/useDomNodeTextContent: the visible text (innerText) is what is asserted
  return document.querySelector('main')?.innerText ?? '';
}

describe.skipIf(Boolean(MISSING))(SUITE, () => {
  let webkit: WebKit;
  let stack: BrowserStack;
  let site: Site;

  beforeAll(async () => {
    ({ site, stack, browser: webkit } = await startPagesRig(launchWebKit, { embed: false }));
  }, 120_000);
  afterAll(async () => {
    await webkit?.close();
    await stack?.close();
    await site?.close();
  });

  /**
   * WebKitWebDriver takes a screenshot after the page's next presentation update, which a static
   * page under Xvfb may never make: a change that repaints (and is invisible) is kept going
   * while the screenshot is taken.
   */
  const shot = async (name: string) => {
    await webkit.driver.execute(`
      let on = false;
      window.__pgRepaint = setInterval(() => { on = !on; document.documentElement.style.outline = on ? '1px solid transparent' : ''; }, 50);`);
    try {
      const b64 = await webkit.driver.command<string>('GET', '/screenshot');
      return saveScreenshot('webkit', name, Buffer.from(b64, 'base64'));
    } finally {
      await webkit.driver.execute('clearInterval(window.__pgRepaint); document.documentElement.style.outline = ""');
    }
  };
  const text = async () => folded(await webkit.driver.call(mainText));
  /** Opens `url` from a page of the host app's site (a WebDriver navigation straight to a preview origin can hang MiniBrowser's first load). */
  const open = async (url: string) => {
    await webkit.driver.navigate(`${stack.host.url}no-such-page`);
    await webkit.driver.execute('location.assign(arguments[0])', [url]);
  };
  const setApp = (up: boolean) => stack.emulator.bindPort(stack.sandboxId, APP_PORT, up ? 'inspector' : null);

  it('no credential: "This preview is private." once, Back to the app to GATE_APP_URL, Reload, the code', async () => {
    const d = webkit.driver;
    await open(`${stack.previewOrigin}/`);
    await until(d, 'the failure page', () => document.body?.dataset.gateCode === 'missing_credential');
    const shown = await text();
    expect(shown).toContain('Acme IDE');
    expect(shown).toContain('This preview is private.');
    expect(shown).not.toContain('no access token, cookie or share link');
    expect(shown).toContain('Back to the app');
    expect(shown).toContain('Reload');
    expect(shown).toContain('Error code: missing_credential');
    await shot('private-tab');
    await d.execute('document.querySelector(\'a.button[href^="http"]\').click()');
    await until(d, 'the host app', () => location.pathname === '/app' && document.querySelector('h1')?.textContent === 'Acme IDE home');
  }, 90_000);

  it('a garbage launch code says "not valid", never "expired"', async () => {
    const d = webkit.driver;
    await open(`${stack.previewOrigin}/__gate/launch#code=garbage&path=%2F`);
    await until(d, 'the failure', () => document.body?.dataset.gateCode === 'invalid_code');
    const shown = await text();
    expect(shown).toContain('This preview link is not valid.');
    expect(shown).not.toMatch(/expired/i);
    await shot('launch-invalid');
  }, 60_000);

  it('storage_refused at top level (plain http drops Secure cookies, worker off) does not say "embedded" or "inside the app"', async () => {
    const d = webkit.driver;
    const { url } = await stack.launchUrl('/');
    await open(`${url}&sw=0`);
    await until(d, 'the failure', () => document.body?.dataset.gateCode === 'storage_refused');
    const shown = await text();
    expect(shown).not.toMatch(/embedded|inside the app/i);
    expect(shown).toContain('Your browser refused the cookie and the Service Worker this preview needs.');
    expect(shown).toContain('Reload');
    await shot('storage-refused-tab');
  }, 60_000);

  it('waiting in a tab: "Waiting for the app on port 3000", then the app, with no action', async () => {
    const d = webkit.driver;
    await setApp(false);
    try {
      const { url } = await stack.launchUrl('/');
      // From the host page the link was minted for (its referrer): no confirmation.
      await open(url);
      await until(d, 'the waiting page', () => document.body?.dataset.gatePage === 'waiting');
      const shown = await text();
      expect(shown).toContain('Waiting for the app on port 3000.');
      expect(shown).toContain('Error code: app_not_listening');
      await shot('waiting-tab');
      await setApp(true);
      await until(d, 'the app', () => document.documentElement.dataset.inspectorDone === 'true', 60_000);
      expect(await d.url()).toBe(`${stack.previewOrigin}/`);
    } finally {
      await setApp(true);
    }
  }, 150_000);
});
