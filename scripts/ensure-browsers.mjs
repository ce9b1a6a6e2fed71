#!/usr/bin/env node
// The test command's browsers and Redis (npm `pretest`):
//  - redis-server is required: scripts/ensure-redis.mjs finds it or installs Debian's, else fails.
//  - Chromium is required: scripts/ensure-chromium.mjs finds it or installs Debian's, else fails.
//  - Firefox is best-effort: FIREFOX_PATH, /usr/bin/firefox-esr, /usr/bin/firefox, else
//    `apt-get install firefox-esr` when root on Debian. Any failure only warns: without Firefox,
//    test/e2e/firefox.test.ts skips. PREVIEW_GATE_NO_FIREFOX=1 skips the install attempt.
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Redis (required by test/redis/**): installed or refused clearly by its own script.
const redis = spawnSync(process.execPath, [fileURLToPath(new URL('./ensure-redis.mjs', import.meta.url))], { stdio: 'inherit' });
if (redis.status !== 0) process.exit(redis.status ?? 1);

const chromium = spawnSync(process.execPath, [fileURLToPath(new URL('./ensure-chromium.mjs', import.meta.url))], { stdio: 'inherit' });
if (chromium.status !== 0) process.exit(chromium.status ?? 1);

// WebKit (best-effort, before Firefox, whose step ends the script): WebKitWebDriver, the
// WebKitGTK MiniBrowser and Xvfb (test/support/webkit.ts), else `apt-get install
// webkit2gtk-driver xvfb` when root on Debian. Any failure only warns: test/e2e/webkit.test.ts
// then skips with the reason. PREVIEW_GATE_NO_WEBKIT=1 skips the install attempt.
(function ensureWebKit() {
  const parts = {
    WebKitWebDriver: [process.env.WEBKIT_WEBDRIVER, '/usr/bin/WebKitWebDriver'],
    MiniBrowser: [process.env.WEBKIT_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'],
    Xvfb: ['/usr/bin/Xvfb'],
  };
  const missing = () =>
    Object.entries(parts)
      .filter(([, paths]) => !paths.some((p) => p && existsSync(p)))
      .map(([name]) => name);
  const warn = (why) => console.warn(`webkit: ${why}; the WebKit browser tests will be skipped (apt-get install webkit2gtk-driver xvfb to run them).`);
  if (missing().length === 0) return console.log('webkit: WebKitWebDriver, MiniBrowser and Xvfb found');
  if (process.env.PREVIEW_GATE_NO_WEBKIT === '1') return warn(`${missing().join(', ')} missing, not installed (PREVIEW_GATE_NO_WEBKIT=1)`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) return warn(`${missing().join(', ')} not found`);
  console.log(`webkit: ${missing().join(', ')} missing, installing Debian webkit2gtk-driver and xvfb with apt-get (best-effort) ...`);
  try {
    // Bounded like Firefox's install: a held dpkg lock or a slow mirror must not hold the tests hostage.
    const opts = { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 };
    execFileSync('apt-get', ['update', '-qq'], opts);
    execFileSync('apt-get', ['install', '-y', '-qq', 'webkit2gtk-driver', 'xvfb'], opts);
  } catch (err) {
    return warn(`install failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  if (missing().length === 0) console.log('webkit: installed');
  else warn(`${missing().join(', ')} still missing after apt-get install`);
})();

const candidates = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'];
const found = () => candidates.find((p) => p && existsSync(p));
if (found()) {
  console.log(`firefox: ${found()}`);
  process.exit(0);
}
const skip = (why) => {
  console.warn(`firefox: ${why}; the Firefox browser tests will be skipped (install firefox-esr or set FIREFOX_PATH to run them).`);
  process.exit(0);
};
if (process.env.PREVIEW_GATE_NO_FIREFOX === '1') skip('not looked for (PREVIEW_GATE_NO_FIREFOX=1)');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) skip('not found');
console.log('firefox: not found, installing Debian firefox-esr with apt-get (best-effort) ...');
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Bounded: a held dpkg lock or a slow mirror must not hold the test command hostage.
  const opts = { stdio: 'inherit', env, timeout: 300_000 };
  execFileSync('apt-get', ['update', '-qq'], opts);
  execFileSync('apt-get', ['install', '-y', '-qq', 'firefox-esr'], opts);
} catch (err) {
  skip(`install failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
}
if (found()) console.log(`firefox: ${found()}`);
else skip('still not found after apt-get install');
