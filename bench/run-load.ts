/** Runs bench/load.ts in a process of its own (see its header for the jobs). */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';

let bundled: string | undefined;
/**
 * bench/load.ts bundled once per run: a load process then starts in ~0.1 s instead of the
 * seconds tsx needs on a loaded machine (the bench starts a few hundred of them).
 */
function loadScript(): string[] {
  if (!bundled) {
    const dir = resolve('.tmp', 'bench');
    mkdirSync(dir, { recursive: true });
    bundled = join(dir, `load-${process.pid}.mjs`);
    buildSync({ entryPoints: ['bench/load.ts'], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: bundled, logLevel: 'error' });
  }
  return [bundled];
}

export function runLoad(job: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loadScript(), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '{}');
        if (r.error) reject(new Error(r.error));
        else resolve(r);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** An `idle-ws` job: resolves once its connections are open; `close()` ends them and the process. */
export function holdIdleWebSockets(
  job: object,
  endFromServer: () => void,
): Promise<{ open: number; failed: number; seconds: number; firstError: string; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...loadScript(), JSON.stringify({ ...job, kind: 'idle-ws' })], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    lines.once('line', (line) => {
      try {
        const r = JSON.parse(line);
        if (r.error) return reject(new Error(r.error));
        resolve({
          ...r,
          async close() {
            endFromServer();
            child.stdin.end('close\n');
            await exited;
          },
        });
      } catch (e) {
        reject(e);
      }
    });
    child.once('exit', (code) => reject(new Error(`idle-ws load exited with ${code} before opening its connections`)));
  });
}

/** Removes this run's bundled load script. */
export function removeLoadScript(): void {
  if (bundled) rmSync(bundled, { force: true });
  bundled = undefined;
}
