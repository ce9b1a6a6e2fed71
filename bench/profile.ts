/**
 * `node --import tsx bench/profile.ts [small|ws|download|all]`: runs the gateway under
 * `--cpu-prof` against the emulator, drives one kind of load with bench/load.ts (its own
 * process), then prints the top self-time functions and files of the gateway's profile.
 * The profile itself stays in .tmp/profiles/ for a closer look (Chrome DevTools can open it).
 * `bench/profile.ts summarize <file.cpuprofile> [dist/gateway.mjs]` summarises a profile made
 * elsewhere (scripts/hotpath-cpu.ts HOTPATH_PROFILE=1); with the bundle, by source module.
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

/**
 * The source file of each line of an esbuild bundle (dist/gateway.mjs), from the `// path`
 * comments esbuild puts before each module's code: a profile of the bundle then reads by module.
 */
export function bundleSources(bundleText: string): (line: number) => string | null {
  const marks: [number, string][] = [];
  bundleText.split('\n').forEach((l, i) => {
    if (/^\/\/ (broker|node_modules|protocol|sw)\//.test(l)) marks.push([i, l.slice(3)]);
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found: string | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]![0] <= line) {
        found = marks[mid]![1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/**
 * Where a file's self time belongs, in the few groups docs/benchmarks.md reports: the kernel
 * (time inside socket syscalls), V8 (GC and the rest it does itself), Node's HTTP and streams,
 * the Fetch API objects (undici: Headers, Request, Response), Hono (the router and
 * @hono/node-server), jose, and the gateway's own code (core and Node edge).
 */
export function groupOf(file: string): string {
  if (/^(writev|writeUtf8String|writeLatin1String|writeBuffer|read|close|shutdown)$/.test(file)) return 'kernel: socket syscalls';
  if (file === '(garbage collector)') return 'V8: garbage collection';
  if (file === '[eval]') return "the minimal proxy's own code";
  if (/^\((program|root)\)$|^runMicrotasks$|^RegExp:|^(parse|btoa|now|getLibuvNow)$/.test(file)) return 'V8 and natives (microtasks, regexps, URL parsing)';
  if (file.startsWith('node:internal/deps/undici')) return 'Fetch API objects (undici)';
  if (/^node:/.test(file)) return 'Node: http, net, streams, events';
  if (/hono/.test(file)) return 'Hono and @hono/node-server';
  if (/jose/.test(file)) return 'jose';
  if (file.startsWith('broker/core/') || file.startsWith('protocol/')) return 'gateway: portable core';
  if (file.startsWith('broker/node/')) return 'gateway: Node edge';
  return 'other';
}

/**
 * Self time per function, per file and per group, from the samples of a V8 .cpuprofile.
 * `sources` maps a bundle's lines to their module (bundleSources); (idle) is left out.
 */
export function summarize(profile: Profile, top = 30, sources?: (line: number) => string | null): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const group = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    total += us;
    const raw = n.callFrame.url;
    const source = sources && /\.mjs$/.test(raw) ? sources(n.callFrame.lineNumber) : null;
    const url = (source ?? raw).replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, 'nm/');
    const name = `${n.callFrame.functionName || '(anon)'} ${url ? `${url}${source ? '' : `:${n.callFrame.lineNumber + 1}`}` : ''}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = url
      ? url.startsWith('nm/')
        ? url
            .split('/')
            .slice(0, url.split('/')[1]!.startsWith('@') ? 3 : 2)
            .join('/')
        : url.startsWith('node:')
          ? url.split('/').slice(0, 3).join('/')
          : url
      : n.callFrame.functionName;
    file.set(f, (file.get(f) ?? 0) + us);
    const g = groupOf(f.startsWith('nm/') ? `node_modules/${f.slice(3)}` : f);
    group.set(g, (group.get(g) ?? 0) + us);
  }
  const fmt = (m: Map<string, number>, n = top) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return `total ${(total / 1e6).toFixed(2)} s busy (sampled, idle excluded)\n-- self time by group --\n${fmt(group, 20)}\n-- self time by function --\n${fmt(fn)}\n-- self time by file/package --\n${fmt(file)}`;
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
  const sources = script.endsWith('.mjs') ? bundleSources(readFileSync(script, 'utf8')) : undefined;
  console.log(summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, Number(process.env.PROFILE_TOP ?? 30), sources));
}

/** `bench/profile.ts summarize <file.cpuprofile> [bundle.mjs]`: the same summary of a profile made elsewhere (scripts/hotpath-cpu.ts). */
function summarizeFile(profilePath: string, bundle?: string): void {
  const sources = bundle ? bundleSources(readFileSync(bundle, 'utf8')) : undefined;
  console.log(summarize(JSON.parse(readFileSync(profilePath, 'utf8')) as Profile, Number(process.env.PROFILE_TOP ?? 30), sources));
}

if (process.argv[1]?.endsWith('profile.ts')) {
  (mode === 'summarize' ? Promise.resolve(summarizeFile(process.argv[3]!, process.argv[4])) : main()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
