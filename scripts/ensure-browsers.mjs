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
