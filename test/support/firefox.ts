/**
 * Launches Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (puppeteer-core never
 * downloads a browser; `scripts/ensure-browsers.mjs` installs Debian's `firefox-esr` when it
 * can, best-effort). Firefox is optional: `firefoxPath()` returns undefined when there is none
 * and the Firefox tests skip.
 *
 * Each `launchFirefox()` gets a fresh temporary profile (puppeteer creates and removes it).
 * Preferences on top of puppeteer's own automation profile (which already turns off updates,
 * telemetry uploads, safe browsing, first-run pages):
 *  - Firefox's shipped cookie policy pinned: Total Cookie Protection (`cookieBehavior` 5, a
 *    cross-site frame's cookies, IndexedDB and Service Worker partitioned by top-level site), the
 *    case preview-gate must handle. Pinned through the `custom` content-blocking category, where
 *    the pref is taken as written: under `standard` Firefox derives it from the category's
 *    feature list, which puppeteer's profile rewrites (with `cookieBehavior0`; Firefox 153 still
 *    partitioned with it, measured, but nothing guarantees that). Measured with a real
 *    `cookieBehavior` 0 instead: the frame's worker and its cookie show up at top level.
 *  - no proxy (the environment's proxy variables must not see loopback previews) and no
 *    background connections (captive portal, connectivity checks, region/remote settings,
 *    prefetch), so a test never waits on the network outside loopback.
 * `*.localhost` needs nothing: Firefox resolves it to loopback itself and treats it as a secure
 * context, so Service Workers run on `http://3000-x.preview.localhost:PORT`.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export const FIREFOX_PREFS: Record<string, unknown> = {
  // Firefox's default cookie policy (Total Cookie Protection), pinned (see above).
  'browser.contentblocking.category': 'custom',
  'network.cookie.cookieBehavior': 5,
  'network.cookie.cookieBehavior.pbmode': 5,
  // Loopback only: no proxy, no background traffic.
  'network.proxy.type': 0,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.discovery.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutwelcome.enabled': false,
};

/** FIREFOX_PATH, then Debian's firefox-esr, then firefox; undefined when none exists. */
export function firefoxPath(): string | undefined {
  const candidates = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'];
  return candidates.find((p): p is string => Boolean(p && existsSync(p)));
}

/** Headless Firefox over WebDriver BiDi, fresh profile. Close it with `browser.close()`. */
export async function launchFirefox(opts: { extraPrefs?: Record<string, unknown> } = {}): Promise<Browser> {
  const executablePath = firefoxPath();
  if (!executablePath) throw new Error('No Firefox found: install firefox-esr (apt-get install firefox-esr) or set FIREFOX_PATH');
  return puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath,
    headless: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...opts.extraPrefs },
    // Firefox on a 2-core machine under a parallel test run can be slow to come up.
    timeout: 60_000,
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
}
