import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function run(env: Record<string, string>) {
  const child = spawn(tsx, ['broker/node/main.ts'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe('node entry (npm run gateway)', () => {
  it('refuses to start without a user-session secret, naming what to set', async () => {
    const p = run({ GATE_PORT: '0' });
    expect(await p.exited).toBe(1);
    expect(p.err()).toMatch(/GATE_USER_JWT_SECRET/);
    expect(p.err()).toMatch(/GATE_USER_JWKS_URL/);
  });

  it('prints GATEWAY_URL and JWKS_URL once ready, serves /healthz, exits cleanly on SIGTERM', async () => {
    const p = run({ GATE_PORT: '0', GATE_USER_JWT_SECRET: 's'.repeat(40), DAYTONA_API_URL: 'http://127.0.0.1:9/api', DAYTONA_API_KEY: 'k' });
    const deadline = Date.now() + 20_000;
    while (!/JWKS_URL=.*\n/.test(p.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = /GATEWAY_URL=(\S+)/.exec(p.out())?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(p.out()).toContain(`JWKS_URL=${url}/.well-known/jwks.json`);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const jwks = await (await fetch(`${url}/.well-known/jwks.json`)).json();
    expect(jwks.keys[0].kid).toBeTruthy();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
