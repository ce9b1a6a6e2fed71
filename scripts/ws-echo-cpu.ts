/**
 * `node --import tsx scripts/ws-echo-cpu.ts`: the WebSocket echo of `npm run bench` (one
 * connection, one message in flight, bench/scenarios/http.ts `websocket`) through nginx, the
 * minimal Node proxy (bench/minimal-proxy.mjs: plain socket pipes), the gateway (dist/gateway.mjs)
 * and, when given, a second gateway bundle (`WS_ECHO_BASELINE=path`, e.g. one built from main):
 * a before/after in the same run, rounds interleaved (the order rotates each round) so a busy
 * shared machine hits all alike. The stack is the bench's own (bench/systems.ts startStack: the
 * app, the emulator's preview proxy, the gateway with `npm run gateway`'s node flags); the
 * baseline is started exactly like the gateway.
 *
 * Each round: a load process (its own) opens the WebSocket and makes `WS_ECHO_WARM` round trips
 * unmeasured, then `WS_ECHO_MESSAGES` measured: round trips/s, and the proxy's CPU per round trip
 * (utime + stime from /proc over the measured round trips only, as scripts/hotpath-cpu.ts does),
 * with its kernel part (stime), and as `npm run bench` counts it (the whole load, handshake and
 * warm-up included, over the measured round trips). At the end, each Node proxy's CPU by thread.
 * `taskset -c 1 node --import tsx scripts/ws-echo-cpu.ts` pins every process to one core: no
 * cross-core wake-ups, far less noise between rounds (docs/benchmarks.md, "WebSocket echo:
 * before and after").
 *
 * Env: WS_ECHO_MESSAGES (default 10000), WS_ECHO_WARM (default 1000), WS_ECHO_ROUNDS (default 3),
 * WS_ECHO_PRELOAD=seconds (first the small-request load of the bench's `small` scenario through
 * each Node proxy, 16 connections, as the bench runs it before the echo: the heap it leaves),
 * WS_ECHO_BASELINE (a gateway bundle: the "baseline" row), WS_ECHO_STRACE=1 (after the rounds,
 * `strace -c` of each Node proxy under one more load: its syscalls), WS_ECHO_PERF=1 (the same with
 * `perf record`: its CPU by binary and symbol, kernel included), WS_ECHO_PROFILE=1 (the
 * gateways and a minimal proxy under --cpu-prof, in place of the plain ones, sampling every
 * WS_ECHO_PROFILE_INTERVAL µs, default 100; the profile of each, cut to its measured windows, is
 * summarised as bench/profile.ts does; files in .tmp/profiles/ws-echo/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuMsOf, readProbe, startProcess, sysMsOf, type Started } from '../bench/processes.js';
import { bundleSources, summarize } from '../bench/profile.js';
import { removeLoadScript, runLoad } from '../bench/run-load.js';
import { launchGrant } from '../bench/setup.js';
import { SECRET, startStack, type Target } from '../bench/systems.js';

const MESSAGES = Number(process.env.WS_ECHO_MESSAGES ?? 10_000);
const WARM = Number(process.env.WS_ECHO_WARM ?? 1_000);
const ROUNDS = Number(process.env.WS_ECHO_ROUNDS ?? 3);
const PROFILE = process.env.WS_ECHO_PROFILE === '1';
const profDir = resolve('.tmp', 'profiles', 'ws-echo');
/** The profiler's sampling interval, µs (V8's default 1000 gives too few samples for a short run). */
const profInterval = ['--cpu-prof-interval', process.env.WS_ECHO_PROFILE_INTERVAL ?? '100'];

/**
 * The load: the bench's WebSocket echo (bench/load.ts runWebSocket: `ws`, no compression, a
 * short text message, the next sent when the echo is back), split at a line on stdin so the CPU
 * of the proxy is read over the measured round trips alone.
 */
const LOAD = `
const { WebSocket } = require('ws');
const { port, host, headers, warm, messages } = JSON.parse(process.argv[1]);
const ws = new WebSocket('ws://127.0.0.1:' + port + '/ws', { headers: { ...headers, host }, origin: 'http://' + host, perMessageDeflate: false });
const roundTrip = (m) => new Promise((res) => { ws.once('message', () => res()); ws.send(m); });
ws.once('error', (e) => { process.stdout.write(JSON.stringify({ error: String(e) }) + '\\n'); process.exit(1); });
ws.once('open', async () => {
  for (let i = 0; i < warm; i++) await roundTrip('w' + i);
  process.stdout.write('WARM\\n');
  await new Promise((r) => process.stdin.once('data', r));
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) await roundTrip('m' + i);
  const s = (performance.now() - t0) / 1000;
  ws.close();
  process.stdout.write(JSON.stringify({ rtPerSec: messages / s }) + '\\n', () => process.exit(0));
});
`;

interface System {
  name: string;
  target: Target;
  pids: () => number[];
}
interface Round {
  rtPerSec: number;
  cpuUs: number;
  sysUs: number;
  /** As the bench counts it: the whole load (handshake, warm-up, close) over the measured round trips. */
  wholeUs: number;
}

/** One measured load; `window` gets the monotonic µs bounds of the measured part (for the profile). */
function echo(s: System, window: (fromUs: number, toUs: number) => void): Promise<Round> {
  return new Promise((resolvePromise, reject) => {
    const job = JSON.stringify({ port: s.target.port, host: s.target.host, headers: s.target.headers, warm: WARM, messages: MESSAGES });
    const cpu = () => s.pids().reduce((a, p) => a + cpuMsOf(p), 0);
    const sys = () => s.pids().reduce((a, p) => a + sysMsOf(p), 0);
    const cpuAll0 = cpu();
    const child = spawn(process.execPath, ['-e', LOAD, job], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let cpu0 = -1;
    let sys0 = 0;
    let from = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('WARM\n') && cpu0 < 0) {
        cpu0 = cpu();
        sys0 = sys();
        from = Number(process.hrtime.bigint() / 1000n);
        child.stdin.write('go\n');
      }
    });
    child.on('exit', () => {
      const to = Number(process.hrtime.bigint() / 1000n);
      const cpu1 = cpu();
      const sys1 = sys();
      try {
        const r = JSON.parse(out.trim().split('\n').pop()!);
        if (r.error || cpu0 < 0) throw new Error(`${s.name}: ${r.error ?? out}`);
        window(from, to);
        resolvePromise({
          rtPerSec: r.rtPerSec,
          cpuUs: ((cpu1 - cpu0) * 1000) / MESSAGES,
          sysUs: ((sys1 - sys0) * 1000) / MESSAGES,
          wholeUs: ((cpu1 - cpuAll0) * 1000) / MESSAGES,
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The samples of a .cpuprofile taken inside `windows` (monotonic µs, the clock V8's profiler uses). */
function cut(p: Profile, windows: [number, number][]): Profile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (windows.some(([a, b]) => t >= a && t <= b)) {
      samples.push(p.samples[i]!);
      timeDeltas.push(p.timeDeltas[i] ?? 0);
    }
  }
  return { ...p, samples, timeDeltas };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (PROFILE) {
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
  }
  const stack = await startStack();
  const extra: Started[] = [];
  const windows: Record<string, [number, number][]> = {};
  const results: Record<string, Round[]> = {};
  const systems: System[] = [];
  const straced: Record<string, string> = {};
  const perfed: Record<string, string> = {};
  const threadCpu: Record<string, string> = {};
  try {
    for (const name of ['nginx', 'minimal', 'gateway'] as const) {
      const s = stack.systems[name];
      if (s) systems.push({ name, target: s.target, pids: s.pids });
    }
    // The gateways of this script: started as bench/systems.ts starts its own (same node flags,
    // same memory probe, same environment), one per bundle, so both are alike but for the code.
    const bundles: [string, string][] = [];
    const baseline = process.env.WS_ECHO_BASELINE;
    if (baseline) bundles.push(['baseline', baseline]);
    if (PROFILE) bundles.push(['gateway (profiled)', 'dist/gateway.mjs']);
    for (const [i, [name, bundle]] of bundles.entries()) {
      const probeFile = join(tmpdir(), `pg-ws-echo-probe-${process.pid}-${i}.json`);
      const args = stack.gatewayArgs.map((a) => (a === 'dist/gateway.mjs' ? bundle : a));
      const prof = PROFILE ? ['--cpu-prof', ...profInterval, '--cpu-prof-dir', join(profDir, name.replace(/\W+/g, '-'))] : [];
      const proc = await startProcess(
        process.execPath,
        [...prof, '--expose-gc', '--import', './bench/memory-probe.mjs', ...args],
        { ...stack.gatewayEnv, GATE_PORT: '0', PG_MEMORY_PROBE_FILE: probeFile, PG_MEMORY_PROBE_GC: '1' },
        ['GATEWAY_URL'],
      );
      extra.push(proc);
      await readProbe(proc.child.pid!, probeFile);
      rmSync(probeFile, { force: true });
      const port = Number(new URL(proc.values.GATEWAY_URL!).port);
      const grant = await launchGrant({ gatePort: port, sandboxId: stack.sandboxId, secret: SECRET });
      systems.push({
        name,
        target: { port, host: grant.previewHost, headers: { 'x-daytona-preview-token': grant.accessToken } },
        pids: () => [proc.child.pid!],
      });
    }
    if (PROFILE) {
      // The profiled gateway and minimal proxy stand in for the plain ones (whose profiles we
      // would not have); the baseline is profiled too when there is one.
      const proc = await startProcess(
        process.execPath,
        ['--cpu-prof', ...profInterval, '--cpu-prof-dir', join(profDir, 'minimal-profiled-'), 'bench/minimal-proxy.mjs'],
        {
          UPSTREAM_PORT: String(stack.emulatorPort),
          UPSTREAM_HOST: `3000-${stack.sandboxId}.proxy.localhost:${stack.emulatorPort}`,
          TOKEN: stack.daytonaToken,
        },
        ['PROXY_PORT'],
      );
      extra.push(proc);
      const port = Number(proc.values.PROXY_PORT);
      systems.push({ name: 'minimal (profiled)', target: { port, host: `127.0.0.1:${port}`, headers: {} }, pids: () => [proc.child.pid!] });
      for (const name of ['gateway', 'minimal'])
        systems.splice(
          systems.findIndex((s) => s.name === name),
          1,
        );
    }
    // WS_ECHO_PRELOAD=s: the bench's small-request load first (its `small` scenario runs just
    // before `websocket`), so each proxy starts the echo with the heap that load left.
    const preload = Number(process.env.WS_ECHO_PRELOAD ?? 0);
    if (preload > 0) {
      for (const s of systems) {
        if (s.name === 'nginx') continue;
        const r = await runLoad({ kind: 'requests', target: s.target, path: '/api/echo', concurrency: 16, seconds: preload });
        console.error(`preload ${s.name}: ${r.count} small requests in ${preload} s, ${r.errors} errors`);
      }
      removeLoadScript();
    }
    console.error(`ws-echo: ${systems.map((s) => s.name).join(', ')}; ${ROUNDS} rounds of ${MESSAGES} round trips (${WARM} warm-up each)`);
    // Warm-up: every system once, unmeasured (JIT).
    for (const s of systems) await echo(s, () => {});
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates: no system is always the one after the same other.
      const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
      for (const s of order) {
        const r = await echo(s, (a, b) => (windows[s.name] ??= []).push([a, b]));
        (results[s.name] ??= []).push(r);
        console.error(
          `round ${round + 1} ${s.name}: ${r.rtPerSec.toFixed(0)} round trips/s, ${r.cpuUs.toFixed(1)} µs CPU/round trip (kernel ${r.sysUs.toFixed(1)}; whole load ${r.wholeUs.toFixed(1)})`,
        );
      }
    }
    // WS_ECHO_STRACE=1: the syscalls of each Node proxy under one more load (not measured: strace slows it down).
    if (process.env.WS_ECHO_STRACE === '1') {
      for (const s of systems.filter((x) => x.name !== 'nginx')) {
        const file = join(tmpdir(), `pg-ws-echo-strace-${process.pid}.txt`);
        const st = spawn('strace', ['-c', '-f', '-o', file, ...s.pids().flatMap((p) => ['-p', String(p)])], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 500));
        await echo(s, () => {});
        st.kill('SIGINT');
        await new Promise((r) => st.once('exit', r));
        straced[s.name] = readFileSync(file, 'utf8');
        rmSync(file, { force: true });
      }
    }
    // WS_ECHO_PERF=1: where each Node proxy's CPU goes by binary (kernel, node, JIT code, libc) and symbol, `perf record` of one more load.
    if (process.env.WS_ECHO_PERF === '1') {
      for (const s of systems.filter((x) => x.name !== 'nginx')) {
        const file = join(tmpdir(), `pg-ws-echo-perf-${process.pid}.data`);
        const pr = spawn('perf', ['record', '-q', '-F', '4999', '-o', file, '-p', s.pids().join(',')], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 500));
        await echo(s, () => {});
        pr.kill('SIGINT');
        await new Promise((r) => pr.once('exit', r));
        const rep = (sort: string, n: number) =>
          spawnSync('perf', ['report', '-q', '-i', file, '--stdio', '--no-children', '--sort', sort], { encoding: 'utf8' })
            .stdout.split('\n')
            .filter((l) => l.trim() && !l.startsWith('#'))
            .slice(0, n)
            .join('\n');
        perfed[s.name] = `${rep('dso', 8)}\n${rep('dso,sym', Number(process.env.PROFILE_TOP ?? 30))}`;
        rmSync(file, { force: true });
      }
    }
    // Each process's CPU by thread over the whole run (startup included): the main thread against
    // V8's and libuv's helper threads (GC, compilers), which /proc counts in the process's time too.
    for (const s of systems.filter((x) => x.name !== 'nginx')) {
      const threads = s.pids().flatMap((pid) => {
        try {
          return readdirSync(`/proc/${pid}/task`).map((tid) => {
            const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
            const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
            return { name: tid === String(pid) ? 'main' : `other ${name}`, ms: (Number(f[11]) + Number(f[12])) * 10 };
          });
        } catch {
          return [];
        }
      });
      const byName = new Map<string, number>();
      for (const t of threads) byName.set(t.name, (byName.get(t.name) ?? 0) + t.ms);
      threadCpu[s.name] = `${[...byName].map(([n, ms]) => `${n} ${ms} ms`).join(', ')} (${threads.length} threads)`;
    }
  } finally {
    for (const p of extra) await p.stop();
    await stack.stop();
  }

  const has = (n: string) => results[n] !== undefined;
  const med = (name: string, k: keyof Round) => median(results[name]!.map((r) => r[k]));
  const minimal = has('minimal') ? 'minimal' : 'minimal (profiled)';
  const spread = (name: string, k: keyof Round, d = 0) => {
    const xs = results[name]!.map((r) => r[k]);
    return `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;
  };
  const lines = [
    `WebSocket echo, ${ROUNDS} rounds x ${MESSAGES} round trips (after ${WARM} unmeasured), one connection, one message in flight; medians (range)`,
    '',
    '| system | round trips/s | vs nginx | vs minimal | CPU µs/round trip | of which kernel | CPU vs minimal | as the bench counts it (whole load / measured round trips) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of systems) {
    const n = s.name;
    lines.push(
      `| ${n} | ${med(n, 'rtPerSec').toFixed(0)} (${spread(n, 'rtPerSec')}) | ${has('nginx') ? (med(n, 'rtPerSec') / med('nginx', 'rtPerSec')).toFixed(2) : 'n/a'} | ${(med(n, 'rtPerSec') / med(minimal, 'rtPerSec')).toFixed(2)} | ${med(n, 'cpuUs').toFixed(1)} (${spread(n, 'cpuUs', 1)}) | ${med(n, 'sysUs').toFixed(1)} | ${(med(n, 'cpuUs') / med(minimal, 'cpuUs')).toFixed(2)} | ${med(n, 'wholeUs').toFixed(1)} |`,
    );
  }
  const now = systems.find((s) => s.name.startsWith('gateway'))?.name;
  if (now && has('baseline')) {
    // Paired by round: the gateway over the baseline in the same round.
    const by = (k: keyof Round) => results[now]!.map((r, i) => r[k] / results.baseline![i]![k]);
    lines.push(
      '',
      `${now} / baseline, by round: CPU per round trip ${by('cpuUs')
        .map((x) => x.toFixed(2))
        .join(' ')} (median ${median(by('cpuUs')).toFixed(2)}); round trips/s ${by('rtPerSec')
        .map((x) => x.toFixed(2))
        .join(' ')} (median ${median(by('rtPerSec')).toFixed(2)})`,
    );
  }
  console.log(lines.join('\n'));
  for (const [name, text] of Object.entries(threadCpu)) console.log(`CPU by thread, ${name}: ${text}`);
  for (const [name, text] of Object.entries(perfed)) console.log(`\nperf of ${name} (one load of ${WARM} + ${MESSAGES} round trips):\n${text}`);
  for (const [name, text] of Object.entries(straced)) console.log(`\nstrace -c of ${name} (one load of ${WARM} + ${MESSAGES} round trips):\n${text.trim()}`);
  if (PROFILE) {
    for (const dir of readdirSync(profDir)) {
      const file = readdirSync(join(profDir, dir)).find((f) => f.endsWith('.cpuprofile'));
      const name = systems.find((s) => s.name.replace(/\W+/g, '-') === dir)?.name;
      if (!file || !name) continue;
      const bundle = name === 'baseline' ? process.env.WS_ECHO_BASELINE : name.startsWith('gateway') ? 'dist/gateway.mjs' : undefined;
      const p = cut(JSON.parse(readFileSync(join(profDir, dir, file), 'utf8')) as Profile, windows[name] ?? []);
      writeFileSync(join(profDir, `${dir}.measured.cpuprofile`), JSON.stringify(p));
      const idle = new Set(p.nodes.filter((x) => x.callFrame.functionName === '(idle)').map((x) => x.id));
      const busyUs = p.samples.reduce((a, id, i) => a + (idle.has(id) ? 0 : (p.timeDeltas[i] ?? 0)), 0);
      console.log(
        `\n--- ${name}: profile of the measured round trips (${(busyUs / results[name]!.length / MESSAGES).toFixed(1)} µs sampled per round trip) ---\n${summarize(p, Number(process.env.PROFILE_TOP ?? 30), bundle ? bundleSources(readFileSync(bundle, 'utf8')) : undefined)}`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
