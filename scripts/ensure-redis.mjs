#!/usr/bin/env node
// The test command's Redis (called by scripts/ensure-browsers.mjs, the npm `pretest` hook):
// the Redis tests (test/redis/**) start Debian's redis-server themselves on a free port
// (test/support/redis.ts). Required, like Chromium: REDIS_SERVER_PATH or /usr/bin/redis-server,
// else `apt-get install redis-server` when root on Debian, else a clear failure.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const path = process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';
if (existsSync(path)) {
  console.log(`redis-server: ${path}`);
  process.exit(0);
}
const fail = (why) => {
  console.error(`redis-server: ${why}. The Redis tests need Debian's redis-server: run \`apt-get install redis-server\` as root (or set REDIS_SERVER_PATH).`);
  process.exit(1);
};
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) fail('not found, and not root on a Debian-like system to install it');
console.log('redis-server: not found, installing Debian redis-server with apt-get ...');
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { stdio: 'inherit', env, timeout: 300_000 };
  execFileSync('apt-get', ['update', '-qq'], opts);
  // The package's service is not started here (no init in containers); tests start their own.
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], opts);
} catch (err) {
  fail(`install failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
}
if (existsSync(path)) console.log(`redis-server: ${path}`);
else fail('still not found after apt-get install');
