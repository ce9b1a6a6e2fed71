/**
 * A program written from the SDK docs alone (fixtures/third-party-program.mjs) runs in its own
 * Node process against the emulator: it creates a sandbox, reads the preview link, reaches the
 * inspector through the emulated proxy with the token header, and then exits by itself.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(() => emu.close());

it('a third-party SDK program creates a sandbox, reaches its app through the proxy and exits cleanly', async () => {
  const program = fileURLToPath(new URL('./fixtures/third-party-program.mjs', import.meta.url));
  const t0 = Date.now();
  const child = spawn(process.execPath, [program], {
    env: { PATH: process.env.PATH ?? '', DAYTONA_API_URL: emu.apiUrl, DAYTONA_API_KEY: emu.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    // If the SDK kept a socket open, the process would never exit: fail instead of hanging.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  expect(result.state).toBe('started');
  expect(result.url).toBe(emu.previewUrl(result.sandboxId, 3000));
  expect(result.status).toBe(200);
  expect(result.echo).toMatchObject({ method: 'GET', path: '/api/echo', query: { from: 'sdk' } });
  expect(result.echo.headers['x-daytona-preview-token']).toBeUndefined();
  console.log(`third-party program: ${Date.now() - t0} ms from spawn to exit`);
}, 30_000);
