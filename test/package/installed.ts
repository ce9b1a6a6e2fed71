/**
 * The package as a user gets it: `npm pack` (which runs prepack, the package build) once, then
 * the tarball installed into an empty project with production dependencies only. Helpers to
 * run the installed CLI and node scripts inside that project.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const root = join(import.meta.dirname, '..', '..');
export const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export interface Installed {
  dir: string;
  project: string;
  tarball: string;
  files: string[];
  /** The installed bin (node_modules/.bin/preview-gate). */
  bin: string;
  cleanup(): void;
}

/** Packs the repository and installs the tarball into a fresh project (`npm install --omit=dev`). */
export async function packAndInstall(): Promise<Installed> {
  const dir = mkdtempSync(join(tmpdir(), 'pg-package-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: root,
    maxBuffer: 64 << 20,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const info = (JSON.parse(stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  const tarball = join(dir, info.filename.replace(/^@[^/]+\//, '').replace('/', '-'));
  const project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await exec('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: project,
    maxBuffer: 64 << 20,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  return {
    dir,
    project,
    tarball,
    files: info.files.map((f) => f.path),
    bin: join(project, 'node_modules', '.bin', 'preview-gate'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A command with a clean environment (PATH only, plus `env`); resolves with its exit code and output. */
export async function runTo(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface Service {
  child: ChildProcess;
  out(): string;
  /** `NAME=value` lines printed once ready. */
  vars: Record<string, string>;
  stop(): Promise<number | null>;
}

/** Starts a long-running command and waits for `readyVar=` on stdout (generous deadline: a loaded machine). */
export async function startService(cmd: string, args: string[], cwd: string, env: Record<string, string>, readyVar: string): Promise<Service> {
  const child = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!new RegExp(`^${readyVar}=`, 'm').test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(' ')} did not become ready: ${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100)); // the rest of the ready lines
  const vars: Record<string, string> = {};
  for (const m of out.matchAll(/^([A-Z_]+)=(.*)$/gm)) vars[m[1]!] = m[2]!;
  return {
    child,
    out: () => out,
    vars,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}
