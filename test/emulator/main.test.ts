/**
 * `npm run emulator` (demo/emulator/main.ts) as a script sees it: NAME=VALUE lines once ready,
 * a working sample sandbox, a clean exit on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { proxyRequest } from './proxy-request.js';

it('prints DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID, PREVIEW_URL, PREVIEW_TOKEN, serves them, and exits 0 on SIGTERM', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/emulator/main.ts'], {
    cwd: root,
    env: { ...process.env, EMULATOR_PORT: '0', EMULATOR_API_KEY: 'main-test-key' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stdout = '';
  const vars = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness lines: ${stdout}`)), 15_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!stdout.includes('PREVIEW_TOKEN=')) return;
      clearTimeout(timer);
      resolve(
        Object.fromEntries(
          stdout
            .trim()
            .split('\n')
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        ),
      );
    });
  });
  try {
    expect(Object.keys(vars)).toEqual(['DAYTONA_API_URL', 'DAYTONA_API_KEY', 'SANDBOX_ID', 'PREVIEW_URL', 'PREVIEW_TOKEN']);
    expect(vars.DAYTONA_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(vars.DAYTONA_API_KEY).toBe('main-test-key');
    const port = new URL(vars.DAYTONA_API_URL!).port;
    expect(vars.PREVIEW_URL).toBe(`http://3000-${vars.SANDBOX_ID}.proxy.localhost:${port}`);
    const sandbox = await (
      await fetch(`${vars.DAYTONA_API_URL}/sandbox/${vars.SANDBOX_ID}`, { headers: { authorization: `Bearer ${vars.DAYTONA_API_KEY}` } })
    ).json();
    expect(sandbox).toMatchObject({ state: 'started', labels: { 'preview-gate.users': '*' } });
    const res = await proxyRequest(vars.PREVIEW_URL!, '/api/echo', { headers: { 'x-daytona-preview-token': vars.PREVIEW_TOKEN! } });
    expect(res.status).toBe(200);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
}, 30_000);
