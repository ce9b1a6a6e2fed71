/**
 * The gateway as it is deployed: one ES module bundled by esbuild (broker/node/bundle.mjs itself,
 * as `npm run build:gateway` runs it), run with plain `node`. Built once per test
 * file into a temporary `dist/` beside links to the built browser assets (the bundle serves the
 * assets next to it), so tests never rewrite the shared dist/ and a process starts in well under
 * a second instead of the several seconds tsx needs to transpile the sources.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import { ROOT } from './paths.js';

const execFileAsync = promisify(execFile);
let built: Promise<string> | null = null;
let dir: string | null = null;

// Registered when a test file imports this module: the file's bundle goes with the file (a
// vitest worker is not guaranteed to exit normally, so a process 'exit' hook would leak it).
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
  built = null;
});

/** Path of the bundled gateway (dist/gateway.mjs of a temporary directory). */
export function gatewayBundle(): Promise<string> {
  built ??= (async () => {
    dir = mkdtempSync(join(tmpdir(), 'pg-fleet-bundle-'));
    const dist = join(dir, 'dist');
    mkdirSync(dist);
    for (const asset of ['sw.js', 'bootstrap.js', 'embed.js']) {
      if (existsSync(join(ROOT, 'dist', asset))) symlinkSync(join(ROOT, 'dist', asset), join(dist, asset));
    }
    const outfile = join(dist, 'gateway.mjs');
    // The deployed bundle's own build (its options and the one-byte source): broker/node/bundle.mjs.
    await execFileAsync(process.execPath, [join(ROOT, 'broker/node/bundle.mjs'), outfile], { cwd: ROOT });
    return outfile;
  })();
  return built;
}
