/**
 * Launches Debian's Chromium through playwright-core (Playwright cannot download its own here).
 * Two modes matter for preview-gate (ARCHITECTURE.md, flows 11–12 and "Known limits"):
 *  - `launchChromium()`: Playwright's default, third-party cookies blocked: a cross-site iframe
 *    cannot register a Service Worker, but Partitioned cookies still work.
 *  - `launchPersistentChromium({ thirdPartyCookies: true })`: a persistent profile whose
 *    preferences allow third-party cookies: the worker registers inside cross-site iframes.
 */
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function chromiumPath(): string {
  const candidates = [process.env.PLAYWRIGHT_CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p): p is string => Boolean(p && existsSync(p)));
  if (!found) throw new Error('No Chromium found: run `node scripts/ensure-chromium.mjs` or set PLAYWRIGHT_CHROMIUM_PATH');
  return found;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
}

export interface PersistentChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchPersistentChromium(opts: { thirdPartyCookies: boolean }): Promise<PersistentChromium> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-chromium-'));
  mkdirSync(join(dir, 'Default'), { recursive: true });
  const prefs = opts.thirdPartyCookies
    ? { profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }
    : { profile: { cookie_controls_mode: 1, block_third_party_cookies: true } };
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(prefs));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
