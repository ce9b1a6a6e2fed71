/**
 * `npm run bench`: preview-gate against direct Daytona access and against nginx, same upstream
 * (the emulator's preview proxy and inspector app), same load generator, one run. The machine
 * is noisy, so only ratios measured in the same run are reported. Not part of `npm test`.
 *
 *   direct   client ──► emulator preview proxy (Daytona token in the header)
 *   nginx    client ──► nginx (injects one fixed Daytona token) ──► emulator
 *   gateway  client ──► preview-gate (verifies our JWT, swaps tokens, strips credentials) ──► emulator
 *
 * Memory, per phase: the gateway's peak RSS (kernel VmHWM, reset before each phase) and, from
 * bench/memory-probe.mjs loaded into it, the maxima of process.memoryUsage() during the phase
 * and the heap still referenced after a full GC at its end; nginx's peak RSS the same way (it has
 * no heap to break down). CPU time per unit of work, for both. The gateway's small, download and
 * upload loads then run a second time: a leak shows as "heapUsed after GC" growing between rounds.
 * Env: BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_TARGETS=gateway,nginx (a subset),
 * BENCH_GATEWAY=tsx (sources instead of the bundle), BENCH_GATEWAY_FLAGS="--..." (node flags
 * instead of those of `npm run gateway`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, cpuMsOf, freePort, memoryOf, readProbe, resetPeak, startProcess, type ProbeReading } from './processes.js';
import { startNginx } from './nginx.js';
import { launchGrant } from './setup.js';
import { redisStorePhase } from './redis-store.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DOWNLOAD_BYTES = 50_000_000;
const tsx = ['--import', 'tsx'];

/**
 * The node flags `npm run gateway` starts the bundle with (read from package.json, so the bench
 * measures what is shipped); BENCH_GATEWAY_FLAGS="..." overrides them to try others.
 */
function gatewayNodeFlags(): string[] {
  if (process.env.BENCH_GATEWAY_FLAGS !== undefined) return process.env.BENCH_GATEWAY_FLAGS.split(/\s+/).filter(Boolean);
  const script: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts?.gateway ?? '';
  const m = /\bnode((?:\s+--\S+)*)\s+dist\/gateway\.mjs/.exec(script);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

interface Target {
  port: number;
  host: string;
  headers: Record<string, string>;
}

function runLoad(job: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsx, 'bench/load.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

async function main() {
  const emuPort = await freePort();
  const gatePort = await freePort();
  const nginxPort = await freePort();
  const secret = 'bench-secret-bench-secret-bench-secret';

  const emulator = await startProcess(process.execPath, [...tsx, 'demo/emulator/main.ts'], { EMULATOR_PORT: String(emuPort) }, [
    'DAYTONA_API_URL',
    'SANDBOX_ID',
    'PREVIEW_TOKEN',
  ]);
  const { DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID, PREVIEW_TOKEN } = emulator.values as Record<string, string>;
  // The gateway runs as `npm run gateway` runs it: the bundle (BENCH_GATEWAY=tsx: the sources through tsx).
  const viaTsx = process.env.BENCH_GATEWAY === 'tsx';
  if (!viaTsx) {
    const built = spawnSync(process.execPath, ['broker/node/bundle.mjs'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('bundling the gateway failed');
  }
  // bench/memory-probe.mjs samples process.memoryUsage() inside the gateway (see its header);
  // --expose-gc only lets it collect before the "retained" reading at the end of each phase.
  const probeFile = join(tmpdir(), `pg-bench-probe-${process.pid}.json`);
  const flags = gatewayNodeFlags();
  const probe = ['--expose-gc', '--import', './bench/memory-probe.mjs'];
  const gatewayEnv = { DAYTONA_API_URL: DAYTONA_API_URL!, DAYTONA_API_KEY: DAYTONA_API_KEY ?? 'emulator-key', GATE_USER_JWT_SECRET: secret, GATE_LOG: 'off' };
  const gatewayArgs = viaTsx ? [...flags, ...tsx, 'broker/node/main.ts'] : [...flags, 'dist/gateway.mjs'];
  const gateway = await startProcess(
    process.execPath,
    viaTsx ? [...flags, ...probe, ...tsx, 'broker/node/main.ts'] : [...flags, ...probe, 'dist/gateway.mjs'],
    { GATE_PORT: String(gatePort), ...gatewayEnv, PG_MEMORY_PROBE_FILE: probeFile, PG_MEMORY_PROBE_GC: '1' },
    ['GATEWAY_URL'],
  );
  const daytonaHost = `3000-${SANDBOX_ID}.proxy.localhost:${emuPort}`;
  const nginx = await startNginx({ port: nginxPort, upstreamPort: emuPort, upstreamHost: daytonaHost, token: PREVIEW_TOKEN! });

  // An access token through the real launch flow.
  const { previewHost, accessToken } = await launchGrant({ gatePort, sandboxId: SANDBOX_ID!, secret });

  const targets: Record<string, Target> = {
    direct: { port: emuPort, host: daytonaHost, headers: { 'x-daytona-preview-token': PREVIEW_TOKEN!, 'x-daytona-skip-preview-warning': 'true' } },
    gateway: { port: gatePort, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } },
  };
  if (nginx) targets.nginx = { port: nginxPort, host: `127.0.0.1:${nginxPort}`, headers: {} };
  // BENCH_TARGETS=gateway,nginx runs only those (quicker when trying gateway settings).
  const only = process.env.BENCH_TARGETS?.split(',');
  if (only) for (const name of Object.keys(targets)) if (!only.includes(name)) delete targets[name];

  const gatePid = gateway.child.pid!;
  const memIdle = memoryOf(gatePid);
  const nginxIdle = nginx?.memory();
  await readProbe(gatePid, probeFile); // start the first window
  const idleProbe = await readProbe(gatePid, probeFile);
  const results: Record<string, Record<string, Record<string, number>>> = {};
  // Per phase: gateway peak RSS (kernel VmHWM, reset before the phase), the probe's maxima of
  // process.memoryUsage() during the phase and what is still referenced after a full GC at its
  // end; nginx's peak RSS (master + worker; it has no heap to report) the same way.
  // CPU time (user + system) each proxy spent on the phase: steadier than throughput on a
  // shared machine, and the price of any memory setting shows up here first.
  const phaseMemory: {
    label: string;
    gwPeak: number;
    gwAfter: number;
    probe: ProbeReading | null;
    gwCpuMs: number;
    nginxPeak?: number;
    nginxCpuMs?: number;
  }[] = [];
  const nginxCpu = () => (nginx ? [nginx.pid, ...childPids(nginx.pid)].reduce((a, p) => a + cpuMsOf(p), 0) : 0);
  const phase = async <T>(name: string, label: string, run: () => Promise<T>): Promise<T> => {
    if (name === 'gateway') resetPeak(gatePid);
    if (name === 'nginx') nginx?.resetPeak();
    const cpu0 = name === 'gateway' ? cpuMsOf(gatePid) : nginxCpu();
    const r = await run();
    if (name === 'gateway') {
      const m = memoryOf(gatePid);
      phaseMemory.push({ label, gwPeak: m.hwmMb, gwAfter: m.rssMb, gwCpuMs: cpuMsOf(gatePid) - cpu0, probe: await readProbe(gatePid, probeFile) });
    }
    if (name === 'nginx') {
      const row = phaseMemory.find((p) => p.label === label);
      if (row) {
        row.nginxPeak = nginx!.memory().hwmMb;
        row.nginxCpuMs = nginxCpu() - cpu0;
      }
    }
    return r;
  };
  for (const [name, target] of Object.entries(targets)) {
    results[name] = {
      small: await phase(name, 'small', () => runLoad({ kind: 'requests', target, path: '/api/echo', concurrency: CONCURRENCY, seconds: SECONDS })),
      download: await phase(name, 'download', () => runLoad({ kind: 'download', target, path: `/download?bytes=${DOWNLOAD_BYTES}`, repeat: 3 })),
      upload: await phase(name, 'upload', () => runLoad({ kind: 'upload', target, path: '/upload', bytes: DOWNLOAD_BYTES, repeat: 2 })),
      websocket: await phase(name, 'websocket', () => runLoad({ kind: 'websocket', target, path: '/ws', messages: 2000 })),
    };
    console.error(`bench: ${name} done`);
  }
  // The same loads through the gateway a second time: memory still referenced after a full GC
  // must not grow from one round to the next (a leak would).
  const gw = targets.gateway;
  if (gw) {
    results.gateway2 = {
      small: await phase('gateway', 'small (2nd)', () =>
        runLoad({ kind: 'requests', target: gw, path: '/api/echo', concurrency: CONCURRENCY, seconds: SECONDS }),
      ),
      download: await phase('gateway', 'download (2nd)', () => runLoad({ kind: 'download', target: gw, path: `/download?bytes=${DOWNLOAD_BYTES}`, repeat: 3 })),
      upload: await phase('gateway', 'upload (2nd)', () => runLoad({ kind: 'upload', target: gw, path: '/upload', bytes: DOWNLOAD_BYTES, repeat: 2 })),
    };
  }
  // Memory store vs Redis store, same gateway build (bench/redis-store.ts).
  const storeRows = gw
    ? await redisStorePhase({ memory: gw, gatewayArgs, env: gatewayEnv, sandboxId: SANDBOX_ID!, secret, runLoad, concurrency: CONCURRENCY, seconds: SECONDS })
    : [];
  rmSync(probeFile, { force: true });
  const memAfter = memoryOf(gatePid);
  const nginxAfter = nginx?.memory();

  const r = (a: number | undefined, b: number | undefined) => (a && b ? (a / b).toFixed(2) : 'n/a');
  const rows: string[] = [];
  const line = (label: string, key: string, field: string, unit: string, higherBetter: boolean) => {
    const g = results.gateway?.[key]?.[field];
    const d = results.direct?.[key]?.[field];
    const n = results.nginx?.[key]?.[field];
    rows.push(
      `| ${label} | ${d?.toFixed(1) ?? 'n/a'} ${unit} | ${n?.toFixed(1) ?? 'n/a'} ${unit} | ${g?.toFixed(1) ?? 'n/a'} ${unit} | ${r(g, d)} | ${r(g, n)} | ${higherBetter ? 'higher' : 'lower'} is better |`,
    );
  };
  line(`small GET, ${CONCURRENCY} concurrent`, 'small', 'rps', 'req/s', true);
  line('small GET p50 latency', 'small', 'p50', 'ms', false);
  line('small GET p99 latency', 'small', 'p99', 'ms', false);
  line('50 MB download', 'download', 'mbps', 'MB/s', true);
  line('50 MB upload', 'upload', 'mbps', 'MB/s', true);
  line('WebSocket echo round trips', 'websocket', 'rtPerSec', '/s', true);
  console.log(`\ngateway run as ${viaTsx ? 'TypeScript through tsx' : 'the bundle dist/gateway.mjs (as npm run gateway)'}, GATE_LOG=off`);
  console.log('\n| measure | direct | nginx | gateway | gateway/direct | gateway/nginx | |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  // Peaks are reset per phase (resetPeak), so the run's peak is the largest phase peak.
  const gwPeak = Math.max(memIdle.hwmMb, ...phaseMemory.map((p) => p.gwPeak));
  const nginxPeak = Math.max(nginxIdle?.hwmMb ?? 0, ...phaseMemory.map((p) => p.nginxPeak ?? 0));
  console.log(
    `\nmemory: gateway RSS idle ${memIdle.rssMb.toFixed(0)} MB, after ${memAfter.rssMb.toFixed(0)} MB, peak ${gwPeak.toFixed(0)} MB` +
      (nginxIdle && nginxAfter
        ? `; nginx RSS idle ${nginxIdle.rssMb.toFixed(0)} MB, after ${nginxAfter.rssMb.toFixed(0)} MB, peak ${nginxPeak.toFixed(0)} MB; peak ratio gateway/nginx ${r(gwPeak, nginxPeak)}`
        : ''),
  );
  const mb = (b: number | undefined) => (b === undefined ? 'n/a' : (b / 1048576).toFixed(0));
  console.log(`gateway node flags: ${flags.length ? flags.join(' ') : '(none)'}`);
  console.log(
    '\n| phase | gateway RSS peak | RSS after | heapTotal max | heapUsed max | heapUsed after GC | external max | arrayBuffers max | gateway CPU | nginx RSS peak | nginx CPU |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  if (idleProbe)
    console.log(
      `| idle | ${memIdle.hwmMb.toFixed(0)} | ${memIdle.rssMb.toFixed(0)} | ${mb(idleProbe.max.heapTotal)} | ${mb(idleProbe.max.heapUsed)} | ${mb(idleProbe.now.heapUsed)} | ${mb(idleProbe.max.external)} | ${mb(idleProbe.max.arrayBuffers)} | | ${nginxIdle?.rssMb.toFixed(0) ?? 'n/a'} | |`,
    );
  // CPU per unit of work: per request for the small GETs, per MB otherwise (WebSocket: per 1000 round trips).
  const perUnit = (label: string, cpuMs: number | undefined, who: string) => {
    const key = label.replace(/ \(2nd\)$/, '');
    const res = results[who]?.[key];
    if (cpuMs === undefined || !res) return 'n/a';
    if (key === 'small') return res.count ? `${((1000 * cpuMs) / res.count).toFixed(0)} µs/req` : 'n/a';
    if (key === 'websocket') return `${((1000 * cpuMs) / (res.messages ?? 1)).toFixed(0)} ms/1k rt`;
    return res.bytes ? `${(cpuMs / (res.bytes / 1e6)).toFixed(2)} ms/MB` : 'n/a';
  };
  for (const p of phaseMemory) {
    const x = p.probe;
    const who = p.label.endsWith('(2nd)') ? 'gateway2' : 'gateway';
    console.log(
      `| ${p.label} | ${p.gwPeak.toFixed(0)} | ${p.gwAfter.toFixed(0)} | ${mb(x?.max.heapTotal)} | ${mb(x?.max.heapUsed)} | ${mb(x?.now.heapUsed)} | ${mb(x?.max.external)} | ${mb(x?.max.arrayBuffers)} | ${perUnit(p.label, p.gwCpuMs, who)} | ${p.nginxPeak?.toFixed(0) ?? 'n/a'} | ${perUnit(p.label, p.nginxCpuMs, 'nginx')} |`,
    );
  }
  console.log('(MB; "after" = at the end of the phase; "after GC" = still referenced after a full GC at its end; CPU = user + system time of the process(es))');
  const errors = Object.entries(results)
    .map(([n, x]) => `${n}: ${x.small?.errors ?? '?'} errors`)
    .join(', ');
  console.log(`errors during small-request load: ${errors}`);
  for (const row of storeRows) console.log(row);

  await nginx?.stop();
  await gateway.stop();
  await emulator.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
