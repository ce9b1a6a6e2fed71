/**
 * `npm run gateway` and `npm run demo` pass a signal on to the process that holds the ports: a
 * supervisor (systemd, a container runtime, a terminal) that signals npm must not leave the
 * node process orphaned, still listening. Each runs the real scripts of package.json in a
 * scratch copy of the sources (their build step rewrites dist/, which other test files read).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, waitUntil } from './support/gateway-process.js';

let scratch: string;
const stray = new Set<number>();

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pg-npm-signals-'));
  // Everything the scripts may read (sources, configs, scripts/), not tests, outputs or dependencies.
  const skip = new Set(['.git', 'node_modules', 'dist', 'test', 'bench', 'docs', 'test-results', '.tmp']);
  for (const entry of readdirSync(ROOT)) if (!skip.has(entry)) cpSync(join(ROOT, entry), join(scratch, entry), { recursive: true });
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(scratch, 'node_modules'));
});

afterAll(() => {
  for (const pid of stray) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** Every live descendant of `pid` (from /proc: ppid is the 4th field of /proc/N/stat). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parent.set(Number(name), Number(fields[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Runs `npm run <script>` in `cwd`, waits for `readyLine`, SIGTERMs npm; reports what survived. */
async function signalNpm(cwd: string, script: string, env: Record<string, string>, readyLine: RegExp, portsOf: (out: string) => number[], graceMs = 15_000) {
  const npm = spawn('npm', ['run', script, '--silent'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  await waitUntil(() => readyLine.test(out) || npm.exitCode !== null, 120_000, `${script} to print ${readyLine}`);
  if (!readyLine.test(out)) throw new Error(`npm run ${script} exited: ${err.slice(0, 2000)}`);
  const ports = portsOf(out);
  const tree = descendants(npm.pid!);
  for (const p of tree) stray.add(p);
  expect(tree.length).toBeGreaterThan(0);
  for (const port of ports) expect(await listening(port)).toBe(true);

  npm.kill('SIGTERM');
  const code = await exited;
  // Give any survivor time to show itself (and a forwarded signal time to land).
  await waitUntil(() => tree.every((p) => !alive(p)), graceMs, 'the child processes to exit').catch(() => undefined);
  const survivors = tree.filter(alive);
  const stillListening: number[] = [];
  for (const port of ports) if (await listening(port)) stillListening.push(port);
  return { code, survivors, stillListening, ports };
}

const gatewayEnv = { GATE_PORT: '0', GATE_USER_JWT_SECRET: 's'.repeat(40), DAYTONA_API_URL: 'http://127.0.0.1:9/api', DAYTONA_API_KEY: 'k', GATE_LOG: 'off' };
const gatewayPorts = (out: string) => [Number(new URL(/GATEWAY_URL=(\S+)/.exec(out)![1]!).port)];

describe('npm scripts forward signals to the process holding the port', () => {
  it('SIGTERM to `npm run gateway` stops the gateway: no process survives, the port is free', async () => {
    const r = await signalNpm(scratch, 'gateway', gatewayEnv, /JWKS_URL=\S+\n/, gatewayPorts);
    expect(r.survivors).toEqual([]);
    expect(r.stillListening).toEqual([]);
  }, 180_000);

  it('SIGTERM to `npm run demo` stops the emulator, gateway, Vite and host page: no process survives, every port is free', async () => {
    const env = { EMULATOR_PORT: '0', GATE_PORT: '0', DEMO_HOST_PORT: '0' };
    const ports = (out: string) =>
      ['DAYTONA_API_URL', 'GATEWAY_URL', 'HOST_PAGE_URL'].map((name) => Number(new URL(new RegExp(`${name}=(\\S+)`).exec(out)![1]!).port));
    const r = await signalNpm(scratch, 'demo', env, /DEMO_USER=\S+\n/, ports);
    expect(r.ports).toHaveLength(3);
    expect(r.survivors).toEqual([]);
    expect(r.stillListening).toEqual([]);
  }, 180_000);

  it('control: the same check catches the orphan a script without `exec` leaves behind', async () => {
    const control = mkdtempSync(join(tmpdir(), 'pg-npm-signals-control-'));
    try {
      const pkg = JSON.parse(readFileSync(join(scratch, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      pkg.scripts.gateway = 'npm run build:gateway --silent && node dist/gateway.mjs'; // the old shape, minus the browser build
      writeFileSync(join(control, 'package.json'), JSON.stringify(pkg));
      for (const d of ['broker', 'protocol']) symlinkSync(join(scratch, d), join(control, d));
      symlinkSync(join(scratch, 'node_modules'), join(control, 'node_modules'));
      const r = await signalNpm(control, 'gateway', gatewayEnv, /JWKS_URL=\S+\n/, gatewayPorts, 3_000);
      expect(r.survivors.length).toBeGreaterThan(0);
      expect(r.stillListening).toEqual(r.ports);
      for (const p of r.survivors) process.kill(p, 'SIGKILL');
    } finally {
      rmSync(control, { recursive: true, force: true });
    }
  }, 180_000);
});
