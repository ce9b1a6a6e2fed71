/**
 * `node --import tsx bench/profile.ts [small|ws|download|all]`: runs the gateway under
 * `--cpu-prof` against the emulator, drives one kind of load with bench/load.ts (its own
 * process), then prints the top self-time functions and files of the gateway's profile.
 * The profile itself stays in .tmp/profiles/ for a closer look (Chrome DevTools can open it).
 * Env: PROFILE_SECONDS (default 8), GATEWAY_ENTRY (default broker/node/main.ts via tsx;
 * a .ts runs through tsx, anything else with plain node, e.g. dist/gateway.mjs).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMsOf, freePort, memoryOf, startProcess } from './processes.js';
import { launchGrant } from './setup.js';

const mode = process.argv[2] ?? 'small';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8);
const dir = join(import.meta.dirname, '..', '.tmp', 'profiles');

function runLoad(job: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}'));
      } catch (e) {
        reject(e);
      }
    });
  });
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per file, from the samples of a V8 .cpuprofile. */
export function summarize(profile: Profile, top = 30): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, 'nm/');
    const name = `${n.callFrame.functionName || '(anon)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = url
      ? url.startsWith('nm/')
        ? url
            .split('/')
            .slice(0, url.split('/')[1]!.startsWith('@') ? 3 : 2)
            .join('/')
        : url
      : n.callFrame.functionName;
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const fmt = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return `total ${(total / 1e6).toFixed(2)} s sampled\n-- self time by function --\n${fmt(fn)}\n-- self time by file/package --\n${fmt(file)}`;
}

async function main() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const emuPort = await freePort();
  const gatePort = await freePort();
  const secret = 'bench-secret-bench-secret-bench-secret';
  const emulator = await startProcess(process.execPath, ['--import', 'tsx', 'demo/emulator/main.ts'], { EMULATOR_PORT: String(emuPort) }, [
    'DAYTONA_API_URL',
    'SANDBOX_ID',
  ]);
  const { DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID } = emulator.values as Record<string, string>;
  const entry = process.env.GATEWAY_ENTRY;
  const script = entry ?? 'broker/node/main.ts';
  const args = ['--cpu-prof', '--cpu-prof-dir', dir, ...(script.endsWith('.ts') ? ['--import', 'tsx', script] : [script])];
  const gateway = await startProcess(
    process.execPath,
    args,
    {
      GATE_PORT: String(gatePort),
      DAYTONA_API_URL: DAYTONA_API_URL!,
      DAYTONA_API_KEY: DAYTONA_API_KEY ?? 'emulator-key',
      GATE_USER_JWT_SECRET: secret,
      GATE_LOG: 'off',
    },
    ['GATEWAY_URL'],
  );
  const { previewHost, accessToken } = await launchGrant({ gatePort, sandboxId: SANDBOX_ID!, secret });
  const target = { port: gatePort, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } };
  console.error(`profile: gateway idle RSS ${memoryOf(gateway.child.pid!).rssMb.toFixed(0)} MB`);
  const pid = gateway.child.pid!;
  if (mode === 'small' || mode === 'all') {
    // CPU time per request is far steadier than req/s on a shared machine.
    const cpu0 = cpuMsOf(pid);
    const r = await runLoad({ kind: 'requests', target, path: '/api/echo', concurrency: 16, seconds: SECONDS });
    console.error('small', r, `gateway CPU ${((1000 * (cpuMsOf(pid) - cpu0)) / r.count!).toFixed(0)} µs/request`);
  }
  if (mode === 'ws' || mode === 'all') console.error('ws', await runLoad({ kind: 'websocket', target, path: '/ws', messages: 4000 }));
  if (mode === 'download' || mode === 'all')
    console.error('download', await runLoad({ kind: 'download', target, path: '/download?bytes=50000000', repeat: 4 }));
  const mem = memoryOf(gateway.child.pid!);
  console.error(`profile: gateway RSS ${mem.rssMb.toFixed(0)} MB, peak ${mem.hwmMb.toFixed(0)} MB`);
  await gateway.stop();
  await emulator.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  console.log(summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, Number(process.env.PROFILE_TOP ?? 30)));
}

if (process.argv[1]?.endsWith('profile.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
