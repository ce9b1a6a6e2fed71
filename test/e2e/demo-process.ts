/**
 * `npm run demo` (and `npm run emulator`) as a person starts them: a real process, here without
 * the `npm run build` step (the test run builds dist/ once; rebuilding it here would race other
 * test files reading it), on ports the test chooses (0 = free ones). Collects the printed
 * `NAME=VALUE` lines; `stop()` kills the whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcessGroup } from '../support/process-group.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DemoProcess {
  child: ChildProcess;
  /** NAME → VALUE of every printed `NAME=VALUE` line. */
  lines: Map<string, string>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `script` (`demo/main.ts` or `demo/emulator/main.ts`) with `env` added to this
 * process's; resolves once `readyName` is printed, or once the process exits (then `lines`
 * lacks it: read `stderr()`).
 */
export async function startDemoProcess(script: string, env: Record<string, string>, readyName: string, timeoutMs = 120_000): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, GATE_LOG: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  const lines = new Map<string, string>();
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const m of out.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)) lines.set(m[1]!, m[2]!);
  });
  const deadline = Date.now() + timeoutMs;
  while (!lines.has(readyName) && code === undefined) {
    if (Date.now() > deadline) {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      throw new Error(`${script} printed no ${readyName} in ${timeoutMs} ms:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (code !== undefined || !child.pid) return;
      await stopProcessGroup(child.pid, exited, 15_000);
    },
  };
}
