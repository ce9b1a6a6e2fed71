#!/usr/bin/env node
// Finds a Chromium for the browser tests, or installs Debian's when it can (root on Debian).
// Playwright cannot download its own browser on these machines, so the test command does this.
// Order: PLAYWRIGHT_CHROMIUM_PATH, /usr/bin/chromium, then `apt-get install chromium` as root.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const candidates = [process.env.PLAYWRIGHT_CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
const found = candidates.find((p) => p && existsSync(p));
if (found) {
  console.log(`chromium: ${found}`);
  process.exit(0);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && existsSync('/usr/bin/apt-get')) {
  console.log('chromium: not found, installing Debian chromium with apt-get ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  if (existsSync('/usr/bin/chromium')) process.exit(0);
}
console.error("chromium: no browser found. Install Debian's chromium (apt-get install chromium) or set PLAYWRIGHT_CHROMIUM_PATH.");
process.exit(1);
