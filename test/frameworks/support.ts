/**
 * What the framework matrix (test/frameworks/*.test.ts) shares: the installed dev servers
 * (scripts/ensure-frameworks.mjs writes `{cache}/status.json`; a framework that could not be
 * installed is skipped with its reason), starting a real dev server as a child process on a
 * free port and waiting until it answers, watching a page for failed requests on the preview
 * origin, and recording timings beside direct access.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { stopProcessGroup } from '../support/process-group.js';
// @ts-expect-error: a plain .mjs script without types
import { frameworksDir } from '../../scripts/ensure-frameworks.mjs';

export interface Installed {
  ok: boolean;
  version?: string;
  reason?: string;
  /** Next: the `next` CLI script. */
  bin?: string;
  /** Python frameworks: the venv's python. */
  python?: string;
}

export const FRAMEWORKS_DIR: string = frameworksDir();

/** What ensure-frameworks.mjs installed for `key` (`next`, `streamlit`, `jupyterlab`); a reason when not. */
export function installed(key: 'next' | 'streamlit' | 'jupyterlab'): Installed {
  const file = join(FRAMEWORKS_DIR, 'status.json');
  if (!existsSync(file)) return { ok: false, reason: 'not installed: run `node scripts/ensure-frameworks.mjs` (npm test does)' };
  const status = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Installed>;
  return status[key] ?? { ok: false, reason: `${key} missing from ${file}` };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  url: string;
  port: number;
  /** Everything the process printed (stdout and stderr), for diagnosis and its own refusal messages. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Spawns a dev server and waits until `http://127.0.0.1:{port}{readyPath}` answers (any status
 * below 500). The process gets its own process group, so close() ends its children too.
 */
export async function startDevServer(opts: {
  command: string;
  args: string[];
  cwd: string;
  port: number;
  env?: Record<string, string>;
  readyPath?: string;
  timeoutMs?: number;
}): Promise<DevServer> {
  let out = '';
  const child: ChildProcess = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
  let exited = false;
  child.once('exit', () => void (exited = true));
  const close = async () => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    await stopProcessGroup(child.pid, gone, 5_000);
  };
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`${opts.command} exited before it answered:\n${out.slice(-2000)}`);
    try {
      const res = await fetch(url + (opts.readyPath ?? '/'), { signal: AbortSignal.timeout(60_000) });
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`${opts.command} did not answer on ${url} in time:\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, port: opts.port, output: () => out, close };
}

/** Every answer ≥ 400 and every failed request on `origin` (ERR_ABORTED is the page cancelling its own). */
export function watchFailures(page: Page, origin: string): string[] {
  const failures: string[] = [];
  page.on('response', (r: Response) => {
    if (r.url().startsWith(origin) && r.status() >= 400) failures.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText ?? '';
    if (r.url().startsWith(origin) && !error.includes('ERR_ABORTED')) failures.push(`failed ${r.url()} ${error}`);
  });
  return failures;
}

/** The WebSockets a page opened whose URL matches `pattern`, with whether each is still open and what it received. */
export function watchSockets(page: Page, pattern: RegExp): { url: string; frames: number; closed: boolean; error?: string }[] {
  const sockets: { url: string; frames: number; closed: boolean; error?: string }[] = [];
  page.on('websocket', (ws) => {
    if (!pattern.test(ws.url())) return;
    const s: { url: string; frames: number; closed: boolean; error?: string } = { url: ws.url(), frames: 0, closed: false };
    sockets.push(s);
    ws.on('framereceived', () => void s.frames++);
    ws.on('close', () => void (s.closed = true));
    ws.on('socketerror', (e) => void (s.error = String(e)));
  });
  return sockets;
}

/** Timings per framework and cell, printed once at the end of each file. */
export class Timings {
  private readonly data: Record<string, Record<string, number[]>> = {};
  constructor(private readonly name: string) {}
  add(cell: string, what: string, ms: number): void {
    ((this.data[cell] ??= {})[what] ??= []).push(Math.round(ms));
  }
  print(): void {
    if (Object.keys(this.data).length) console.log(`[frameworks/${this.name}] timings (ms):`, JSON.stringify(this.data));
  }
}
