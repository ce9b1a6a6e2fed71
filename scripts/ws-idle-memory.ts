/**
 * `node --import tsx scripts/ws-idle-memory.ts`: what one idle authenticated WebSocket costs the
 * gateway, against the minimal Node proxy (bench/minimal-proxy.mjs: two raw sockets piped, the
 * floor) and, when installed, nginx. The stack is the benchmark's own (bench/systems.ts
 * startStack: the bench app behind the emulator's preview proxy), the connections are opened by
 * the benchmark's idle-WebSocket load (bench/run-load.ts holdIdleWebSockets: each proven live by
 * one echo, then left idle), so the figures compare with bench/scenarios/idle-ws.ts.
 *
 * For each system, one after the other (a short warm-up first): RSS before and with the N
 * connections open (/proc; for our Node processes once more after a full GC), the live heap of
 * each Node process after a full GC (bench/memory-probe.mjs with --expose-gc; the minimal proxy
 * gets the same probe) before and with them open, and a heap snapshot at both moments
 * (--heapsnapshot-signal; a snapshot collects garbage first) whose difference, grouped by
 * constructor and divided by N, says what each idle connection keeps alive. Writing a snapshot
 * grows the process's RSS: read RSS from a run with WS_SNAPSHOTS=0.
 *
 * Env: WS_IDLE=2000 (connections), WS_GATEWAY=dist/gateway.mjs (run `npm run build:gateway`
 * first), WS_BASELINE=path (a second gateway bundle, e.g. one built from main, measured in the
 * same run as "baseline"), WS_SNAPSHOTS=0 (skip the heap snapshots), WS_TOP=25 (rows of the
 * snapshot difference), WS_NGINX=0 (nginx, when the stack started one, not measured),
 * WS_GATE_LOG=json (the gateways log as by default; the bench runs them with GATE_LOG=off).
 * Used for "Idle WebSockets: before and after" in docs/benchmarks.md.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { summarize } from './soak-heap-diff.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryOf, readProbe, startProcess, type Started } from '../bench/processes.js';
import { holdIdleWebSockets, removeLoadScript } from '../bench/run-load.js';
import { launchGrant } from '../bench/setup.js';
import { SECRET, startStack, type Target } from '../bench/systems.js';

const N = Number(process.env.WS_IDLE ?? 2000);
const SNAPSHOTS = process.env.WS_SNAPSHOTS !== '0';
const TOP = Number(process.env.WS_TOP ?? 25);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const note = (what: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${what}`);

interface Measured {
  name: string;
  target: Target;
  pids: () => number[];
  /** Processes we started (not nginx): the heap probe and the heap snapshot. */
  probe?: () => ReturnType<typeof readProbe>;
  snapshot?: () => Promise<string>;
}

/** Asks for a heap snapshot (SIGUSR1, --heapsnapshot-signal) and resolves with its file once written. */
function snapshotter(pid: number, dir: string): () => Promise<string> {
  return async () => {
    const before = new Set(readdirSync(dir));
    process.kill(pid, 'SIGUSR1');
    for (let i = 0; i < 600; i++) {
      await wait(250);
      const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
      if (!file) continue;
      // Written synchronously by the gateway's main thread: done once it answers the probe and
      // the file has stopped growing.
      const size = statSync(join(dir, file)).size;
      await wait(1000);
      if (size > 0 && statSync(join(dir, file)).size === size) return join(dir, file);
    }
    throw new Error(`no heap snapshot from ${pid}`);
  };
}

/** A Node process with the heap probe and the snapshot signal: a gateway bundle or the minimal proxy. */
async function startProbed(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: string,
  work: string,
): Promise<{ started: Started; pid: number; probe: Measured['probe']; snapshot: Measured['snapshot'] }> {
  const probeFile = join(work, `${name}.probe.json`);
  const snapDir = join(work, name);
  mkdirSync(snapDir, { recursive: true });
  const started = await startProcess(
    process.execPath,
    ['--expose-gc', '--import', './bench/memory-probe.mjs', '--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${snapDir}`, script],
    { ...env, PG_MEMORY_PROBE_FILE: probeFile, PG_MEMORY_PROBE_GC: '1' },
    [ready],
  );
  const pid = started.child.pid!;
  await readProbe(pid, probeFile);
  return { started, pid, probe: () => readProbe(pid, probeFile), snapshot: snapshotter(pid, snapDir) };
}

async function startGateway(entry: string, env: Record<string, string>, name: string, sandboxId: string, work: string) {
  const p = await startProbed(name, entry, { ...env, GATE_PORT: '0' }, 'GATEWAY_URL', work);
  const port = Number(new URL(p.started.values.GATEWAY_URL!).port);
  const { previewHost, accessToken } = await launchGrant({ gatePort: port, sandboxId, secret: SECRET });
  const m: Measured = {
    name,
    target: { port, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } },
    pids: () => [p.pid],
    probe: p.probe,
    snapshot: p.snapshot,
  };
  return { started: p.started, m };
}

function snapshotDiff(baseFile: string, openFile: string, open: number): string {
  const a = summarize(baseFile).groups;
  const b = summarize(openFile).groups;
  const rows: { name: string; perCount: number; perBytes: number }[] = [];
  let total = 0;
  for (const [name, g] of b) {
    const p = a.get(name) ?? { count: 0, size: 0 };
    const d = g.size - p.size;
    total += d;
    rows.push({ name, perCount: (g.count - p.count) / open, perBytes: d / open });
  }
  for (const [name, p] of a) if (!b.has(name)) total -= p.size;
  rows.sort((x, y) => y.perBytes - x.perBytes);
  const lines = [`heap snapshot difference: ${(total / open).toFixed(0)} B of objects per connection; top groups by bytes per connection`];
  lines.push('| bytes/conn | objects/conn | group |', '|---|---|---|');
  for (const r of rows.slice(0, TOP)) lines.push(`| ${r.perBytes.toFixed(0)} | ${r.perCount.toFixed(2)} | ${r.name} |`);
  return lines.join('\n');
}

async function measure(s: Measured, endAppWebSockets: () => void) {
  const rss = () => s.pids().reduce((a, p) => a + memoryOf(p).rssMb, 0);
  // Warm-up: the code paths compiled, pools grown, before the "before" reading.
  const warm = await holdIdleWebSockets({ target: s.target, path: '/ws', connections: 200 }, endAppWebSockets);
  await warm.close();
  await wait(1500);
  // The snapshot first: writing one grows the process's malloc arenas, which then count in
  // neither reading instead of in the second only. RSS is still best read with WS_SNAPSHOTS=0.
  const snap0 = SNAPSHOTS ? await s.snapshot?.() : undefined;
  if (snap0) await wait(1500);
  const heap0 = (await s.probe?.())?.now.heapUsed;
  const rss0 = rss();
  note(`${s.name}: opening ${N}`);
  const h = await holdIdleWebSockets({ target: s.target, path: '/ws', connections: N }, endAppWebSockets);
  try {
    note(`${s.name}: ${h.open} open in ${h.seconds.toFixed(0)} s`);
    if (h.failed) console.error(`${s.name}: ${h.failed} of ${N} failed to open (${h.firstError})`);
    await wait(2000);
    const rss1 = rss();
    const heap1 = (await s.probe?.())?.now.heapUsed;
    // Once more after the probe's full GC: what the first reading held of handshake garbage
    // not yet collected (the gateway makes far more of it per handshake than the minimal proxy).
    const rss2 = s.probe ? rss() : undefined;
    const snap1 = SNAPSHOTS && snap0 ? await s.snapshot?.() : undefined;
    note(`${s.name}: measured`);
    return {
      name: s.name,
      open: h.open,
      rssBeforeMb: rss0,
      rssOpenMb: rss1,
      kbRss: ((rss1 - rss0) * 1024) / h.open,
      kbRssAfterGc: rss2 !== undefined ? ((rss2 - rss0) * 1024) / h.open : undefined,
      kbHeap: heap0 !== undefined && heap1 !== undefined ? (heap1 - heap0) / 1024 / h.open : undefined,
      diff: snap0 && snap1 ? snapshotDiff(snap0, snap1, h.open) : undefined,
    };
  } finally {
    await h.close();
    await wait(1500);
  }
}

async function main() {
  const work = join(tmpdir(), `pg-ws-idle-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const stack = await startStack();
  const started: Started[] = [];
  try {
    // The stack's own gateway is not measured: ours start with the snapshot flag.
    // WS_GATE_LOG=json: the gateway as deployed by default, writing its log lines (the bench's is off).
    const env = { ...stack.gatewayEnv, ...(process.env.WS_GATE_LOG ? { GATE_LOG: process.env.WS_GATE_LOG } : {}) };
    const gw = await startGateway(process.env.WS_GATEWAY ?? 'dist/gateway.mjs', env, 'gateway', stack.sandboxId, work);
    started.push(gw.started);
    const systems: Measured[] = [];
    if (process.env.WS_BASELINE) {
      const base = await startGateway(process.env.WS_BASELINE, env, 'baseline', stack.sandboxId, work);
      started.push(base.started);
      systems.push(base.m);
    }
    systems.push(gw.m);
    // The floor, started here too so its heap is read the same way as the gateway's.
    const daytonaHost = `3000-${stack.sandboxId}.proxy.localhost:${stack.emulatorPort}`;
    const min = await startProbed(
      'minimal',
      'bench/minimal-proxy.mjs',
      { UPSTREAM_PORT: String(stack.emulatorPort), UPSTREAM_HOST: daytonaHost, TOKEN: stack.daytonaToken },
      'PROXY_PORT',
      work,
    );
    started.push(min.started);
    const minPort = Number(min.started.values.PROXY_PORT);
    systems.push({
      name: 'minimal',
      target: { port: minPort, host: `127.0.0.1:${minPort}`, headers: {} },
      pids: () => [min.pid],
      probe: min.probe,
      snapshot: min.snapshot,
    });
    const nginx = stack.systems.nginx;
    if (nginx && process.env.WS_NGINX !== '0') systems.push({ name: 'nginx', target: nginx.target, pids: nginx.pids });
    const results = [];
    for (const s of systems) {
      const r = await measure(s, stack.endAppWebSockets);
      console.error(`${r.name}: ${r.open} open, ${r.kbRss.toFixed(1)} KB RSS/conn${r.kbHeap !== undefined ? `, ${r.kbHeap.toFixed(1)} KB heap/conn` : ''}`);
      results.push(r);
    }
    console.log(`\n${N} idle WebSockets per system (one after the other)`);
    console.log('| system | open | RSS before MB | RSS open MB | KB RSS/conn | KB RSS/conn after a full GC | KB live heap/conn (after GC) |');
    console.log('|---|---|---|---|---|---|---|');
    const kb = (x: number | undefined) => (x !== undefined ? x.toFixed(1) : '–');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.open} | ${r.rssBeforeMb.toFixed(0)} | ${r.rssOpenMb.toFixed(0)} | ${kb(r.kbRss)} | ${kb(r.kbRssAfterGc)} | ${kb(r.kbHeap)} |`,
      );
    }
    for (const r of results) if (r.diff) console.log(`\n#### ${r.name}\n\n${r.diff}`);
  } finally {
    for (const s of started) await s.stop();
    await stack.stop();
    removeLoadScript();
    if (process.env.WS_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
