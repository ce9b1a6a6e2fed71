/**
 * A gateway without GATE_REDIS_URL never loads node-redis (@redis/client): it is the largest
 * module of the bundle (~1.2 MB of dist/gateway.mjs), and loading it cost ~3.5 MB of idle RSS
 * (docs/benchmarks.md, "Round 4"). broker/node/rate-limiter.ts and shared-state.ts import it on
 * first use only. The gateway entry runs in a child process of its own (a fresh module cache);
 * a preload reports, on SIGUSR2, whether any file of @redis/client is in the CommonJS cache, then
 * loads it itself and reports again (the positive control: the check does see a loaded client).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

const PRELOAD = `
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/package.json');
const loaded = () => Object.keys(require.cache).some((f) => f.includes('/node_modules/@redis/client/'));
process.on('SIGUSR2', () => {
  const before = loaded();
  require('@redis/client');
  console.log('REDIS_LOADED=' + JSON.stringify({ before, after: loaded() }));
});
`;

describe('node-redis is loaded only when Redis is configured', () => {
  it('a gateway started without GATE_REDIS_URL serves without loading @redis/client (and the check sees it once loaded)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, 'broker/node/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        GATE_PORT: '0',
        GATE_USER_JWT_SECRET: 's'.repeat(40),
        DAYTONA_API_URL: 'http://127.0.0.1:9/api',
        DAYTONA_API_KEY: 'k',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const until = async (re: RegExp) => {
        const deadline = Date.now() + 20_000;
        while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(out, err).toMatch(re);
      };
      await until(/GATEWAY_URL=\S+\n/);
      const url = /GATEWAY_URL=(\S+)/.exec(out)![1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200); // serving, rate limiters built
      child.kill('SIGUSR2');
      await until(/REDIS_LOADED=.*\n/);
      expect(JSON.parse(/REDIS_LOADED=(.*)\n/.exec(out)![1]!)).toEqual({ before: false, after: true });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
