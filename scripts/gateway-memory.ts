/**
 * `node --import tsx scripts/gateway-memory.ts`: where the gateway's peak memory under the bench's
 * small-request load goes, and what V8 flags change it, in one run. The bench's own stack (the
 * bench app behind the emulator, bench/upstream.ts) and load (bench/load.ts `requests`: 16
 * connections of GET /api/echo), one gateway process per variant of node flags (the bundle
 * dist/gateway.mjs, `npm run build:gateway` first), rounds interleaved. Per round and variant:
 * CPU µs per request, peak RSS (VmHWM reset before the round), and from bench/memory-probe.mjs
 * (sampled every 20 ms inside the gateway) the maxima of heapTotal (V8's heap: young generation
 * semi-spaces + old generation, live and garbage), heapUsed, external and arrayBuffers (Buffers
 * outside the heap), then the live heap after a full GC at the end of the round.
 * Env: MEM_VARIANTS="--flag=1;--flag=2 --other" (';' between variants; an empty one is V8's
 * default, no flag; default: ";--max-semi-space-size=4;--max-semi-space-size=8"),
 * MEM_ROUNDS (3), MEM_SECONDS (5), MEM_LOAD=download (instead of small requests, one download of
 * MEM_BYTES per round, default 1 GiB, and upload: CPU ms per MB, MB/s and RSS growth as in the
 * bench's transfer scenario), MEM_ENTRY (default dist/gateway.mjs; several, ',' between,
 * make it bundles × variants, e.g. a bundle of an earlier commit).
 * MEM_LOAD=mixed: per round, MEM_SECONDS of small requests, then (after MEM_IDLE_S seconds of
 * idleness, default 0) a download and an upload of MEM_BYTES through the same process: the state
 * small requests leave V8 in, and what a transfer then costs. Transfers report the full GCs
 * (mark-compacts) per GiB that the probe counted. MEM_PROBE_GC=1: a full GC before each reading in
 * the transfer modes too (a full GC at a low allocation rate: what puts V8 11.3 in the regime of a
 * full GC per ~16 MB transferred, docs/benchmarks.md "Round 6"). A variant's NAME=value words go to
 * the gateway's environment ("--max-semi-space-size=4 GATE_HEAP_HEADROOM_MB=0"). MEM_TRACE_DIR:
 * each gateway's stdout to gateway-N.log there (V8's --trace-gc* output).
 * Used for docs/benchmarks.md "Round 4: the byte floor and memory" and "Round 6: transfers and V8's full GCs".
 */
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMsOf, memoryOf, type ProbeReading, readProbe, resetPeak, startProcess, type Started } from '../bench/processes.js';
import { removeLoadScript, runLoad } from '../bench/run-load.js';
import { launchGrant } from '../bench/setup.js';
import { median } from '../bench/stats.js';

const VARIANTS = (process.env.MEM_VARIANTS ?? ';--max-semi-space-size=4;--max-semi-space-size=8').split(';').map((v) => v.trim());
const ENTRIES = (process.env.MEM_ENTRY ?? 'dist/gateway.mjs').split(',').filter(Boolean);
const ROUNDS = Number(process.env.MEM_ROUNDS ?? 3);
const LOAD = process.env.MEM_LOAD ?? 'small';
/** MEM_LOAD=mixed: seconds of idleness between the small requests and the transfer (MEM_IDLE_S). */
const IDLE_S = Number(process.env.MEM_IDLE_S ?? 0);
/** Where V8's own traces go (MEM_TRACE_DIR: each gateway's stdout, e.g. with --trace-gc in a variant). */
const TRACE_DIR = process.env.MEM_TRACE_DIR;
const SECONDS = Number(process.env.MEM_SECONDS ?? 5);
const SECRET = 'bench-secret-bench-secret-bench-secret';
const MB = 1024 * 1024;

/** bench/memory-probe.mjs's reading with its GC counts (full mark-compacts, scavenges) since the last one. */
type Probe = ProbeReading & { gc?: { major: number; majorMs: number; minor: number; minorMs: number } };

/** A variant's words: node flags, and NAME=value words for the gateway's environment (e.g. GATE_HEAP_HEADROOM_MB=0). */
const isEnvWord = (w: string) => /^[A-Z][A-Z0-9_]*=/.test(w);
const nodeFlags = (variant: string) => variant.split(/\s+/).filter((w) => w && !isEnvWord(w));
const envOf = (variant: string): Record<string, string> =>
  Object.fromEntries(
    variant
      .split(/\s+/)
      .filter(isEnvWord)
      .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );

interface Gw {
  name: string;
  proc: Started;
  probeFile: string;
  target: { port: number; host: string; headers: Record<string, string> };
}

async function main() {
  const started: Started[] = [];
  const gws: Gw[] = [];
  try {
    const app = await startProcess(process.execPath, ['bench/app.mjs'], {}, ['APP_PORT']);
    started.push(app);
    const up = await startProcess(process.execPath, ['--import', 'tsx', 'bench/upstream.ts'], { APP_URL: `http://127.0.0.1:${app.values.APP_PORT}` }, [
      'CONTROL_PORT',
    ]);
    started.push(up);
    const v = up.values as Record<string, string>;
    for (const entry of ENTRIES)
      for (const flags of VARIANTS) {
        const probeFile = join(tmpdir(), `pg-mem-probe-${process.pid}-${gws.length}.json`);
        const proc = await startProcess(
          process.execPath,
          ['--expose-gc', '--import', './bench/memory-probe.mjs', ...nodeFlags(flags), entry],
          {
            GATE_PORT: '0',
            DAYTONA_API_URL: v.DAYTONA_API_URL!,
            DAYTONA_API_KEY: v.DAYTONA_API_KEY ?? 'emulator-key',
            GATE_USER_JWT_SECRET: SECRET,
            GATE_LOG: 'off',
            GATE_RATE_LIMITS: 'off',
            GATE_ACCESS_TTL: '3600',
            PG_MEMORY_PROBE_FILE: probeFile,
            // Small requests: a full GC before each reading (the live heap, and every variant starts
            // its round alike). Transfers: none, as in the bench (a forced full GC resets V8's
            // external-memory accounting and hides the GCs a transfer triggers by itself).
            PG_MEMORY_PROBE_GC: LOAD === 'small' || process.env.MEM_PROBE_GC === '1' ? '1' : '0',
            ...envOf(flags),
          },
          ['GATEWAY_URL'],
        );
        started.push(proc);
        if (TRACE_DIR) proc.child.stdout!.pipe(createWriteStream(join(TRACE_DIR, `gateway-${gws.length}.log`)));
        const port = Number(new URL(proc.values.GATEWAY_URL!).port);
        const { previewHost, accessToken } = await launchGrant({ gatePort: port, sandboxId: v.SANDBOX_ID!, secret: SECRET });
        const name = `${ENTRIES.length > 1 ? `${entry} ` : ''}${flags || '(default flags)'}`;
        gws.push({ name, proc, probeFile, target: { port, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } } });
      }
    const idle: Record<string, { rssMb: number; liveMb: number }> = {};
    for (const g of gws) {
      const p = await readProbe(g.proc.child.pid!, g.probeFile);
      idle[g.name] = { rssMb: memoryOf(g.proc.child.pid!).rssMb, liveMb: (p?.now.heapUsed ?? 0) / MB };
    }
    const transfer = LOAD === 'download' || LOAD === 'mixed';
    const bytes = Number(process.env.MEM_BYTES ?? 1024 ** 3);
    const job = (g: Gw, seconds: number) => ({ kind: 'requests', target: g.target, path: '/api/echo', concurrency: 16, seconds });
    const down = (g: Gw, n: number) => ({ kind: 'download', target: g.target, path: `/download?bytes=${n}`, repeat: 1 });
    const upload = (g: Gw, n: number) => ({ kind: 'upload', target: g.target, path: '/upload', bytes: n, repeat: 1 });
    for (const g of gws) {
      // warm-up
      if (transfer) {
        await runLoad(down(g, 64 * MB));
        await runLoad(upload(g, 64 * MB));
      }
      if (LOAD !== 'download') await runLoad(job(g, 3));
    }
    const rows: Record<string, Record<string, number>[]> = {};
    const gib = bytes / 1024 ** 3;
    const smallRound = async (g: Gw) => {
      const pid = g.proc.child.pid!;
      resetPeak(pid);
      const cpu0 = cpuMsOf(pid);
      const res = await runLoad(job(g, SECONDS));
      const cpuMs = cpuMsOf(pid) - cpu0;
      const peakRss = memoryOf(pid).hwmMb;
      const p = (await readProbe(pid, g.probeFile)) as Probe | null;
      return {
        rps: res.rps!,
        cpuUs: (1000 * cpuMs) / res.count!,
        peakRssMb: peakRss,
        heapTotalMaxMb: (p?.max.heapTotal ?? 0) / MB,
        heapUsedMaxMb: (p?.max.heapUsed ?? 0) / MB,
        externalMaxMb: (p?.max.external ?? 0) / MB,
        arrayBuffersMaxMb: (p?.max.arrayBuffers ?? 0) / MB,
        liveAfterGcMb: (p?.now.heapUsed ?? 0) / MB,
        smallFullGcs: p?.gc?.major ?? 0,
      };
    };
    const transferRound = async (g: Gw) => {
      const pid = g.proc.child.pid!;
      const one = async (j: object) => {
        const rss0 = memoryOf(pid).rssMb;
        resetPeak(pid);
        const cpu0 = cpuMsOf(pid);
        const res = await runLoad(j);
        const out = { mbps: res.mbps!, cpuMsPerMb: (cpuMsOf(pid) - cpu0) / (res.bytes! / 1e6), growthMb: memoryOf(pid).hwmMb - rss0 };
        const p = (await readProbe(pid, g.probeFile)) as Probe | null;
        return { ...out, p };
      };
      const d = await one(down(g, bytes));
      const u = await one(upload(g, bytes));
      return {
        downMbps: d.mbps,
        downCpuMsPerMb: d.cpuMsPerMb,
        downGrowthMb: d.growthMb,
        downFullGcsPerGib: (d.p?.gc?.major ?? 0) / gib,
        downScavengesPerGib: (d.p?.gc?.minor ?? 0) / gib,
        upMbps: u.mbps,
        upCpuMsPerMb: u.cpuMsPerMb,
        upGrowthMb: u.growthMb,
        upFullGcsPerGib: (u.p?.gc?.major ?? 0) / gib,
        heapTotalMaxMb: Math.max(d.p?.max.heapTotal ?? 0, u.p?.max.heapTotal ?? 0) / MB,
        externalMaxMb: Math.max(d.p?.max.external ?? 0, u.p?.max.external ?? 0) / MB,
        arrayBuffersMaxMb: Math.max(d.p?.max.arrayBuffers ?? 0, u.p?.max.arrayBuffers ?? 0) / MB,
      };
    };
    for (let r = 0; r < ROUNDS; r++)
      for (const g of gws) {
        await readProbe(g.proc.child.pid!, g.probeFile); // a new window (for small requests after a full GC: every variant starts its round alike)
        const row: Record<string, number> = {};
        if (LOAD !== 'download') Object.assign(row, await smallRound(g));
        if (IDLE_S > 0) await new Promise((r) => setTimeout(r, IDLE_S * 1000)); // an idle gateway: V8's memory reducer may run a full GC
        if (transfer) Object.assign(row, await transferRound(g));
        (rows[g.name] ??= []).push(row);
        console.error(`round ${r + 1} ${g.name}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, x]) => [k, Math.round(x * 100) / 100])))}`);
      }
    const med = (g: Gw, k: string, d = 0) => median(rows[g.name]!.map((x) => x[k]!)).toFixed(d);
    const worst = (g: Gw, k: string) => Math.max(...rows[g.name]!.map((x) => x[k]!)).toFixed(0);
    if (LOAD === 'mixed') {
      console.log(
        `\n${ROUNDS} interleaved rounds of: ${SECONDS} s of small requests (16 connections), then a ${bytes / MB} MiB download and upload; medians (peak RSS and growth: worst round)`,
      );
      console.log(
        '| gateway | small: CPU µs/req | req/s | peak RSS MB | download MB/s | CPU ms/MB | full GCs/GiB | RSS growth MB | upload MB/s | CPU ms/MB | full GCs/GiB | RSS growth MB | arrayBuffers max |',
      );
      console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const g of gws)
        console.log(
          `| ${g.name} | ${med(g, 'cpuUs')} | ${med(g, 'rps')} | ${worst(g, 'peakRssMb')} | ${med(g, 'downMbps')} | ${med(g, 'downCpuMsPerMb', 2)} | ${med(g, 'downFullGcsPerGib')} | ${worst(g, 'downGrowthMb')} | ${med(g, 'upMbps')} | ${med(g, 'upCpuMsPerMb', 2)} | ${med(g, 'upFullGcsPerGib')} | ${worst(g, 'upGrowthMb')} | ${med(g, 'arrayBuffersMaxMb')} |`,
        );
      return;
    }
    if (transfer) {
      console.log(`\n${bytes / MB} MiB download then upload per round, ${ROUNDS} interleaved rounds; medians (growth: worst round)`);
      console.log(
        '| gateway | download MB/s | CPU ms/MB | full GCs/GiB | RSS growth MB | upload MB/s | CPU ms/MB | full GCs/GiB | RSS growth MB | heapTotal max | external max | arrayBuffers max |',
      );
      console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const g of gws)
        console.log(
          `| ${g.name} | ${med(g, 'downMbps')} | ${med(g, 'downCpuMsPerMb', 2)} | ${med(g, 'downFullGcsPerGib')} | ${worst(g, 'downGrowthMb')} | ${med(g, 'upMbps')} | ${med(g, 'upCpuMsPerMb', 2)} | ${med(g, 'upFullGcsPerGib')} | ${worst(g, 'upGrowthMb')} | ${med(g, 'heapTotalMaxMb')} | ${med(g, 'externalMaxMb')} | ${med(g, 'arrayBuffersMaxMb')} |`,
        );
      return;
    }
    console.log(`\nsmall-request load (16 connections, GET /api/echo), ${ROUNDS} interleaved rounds of ${SECONDS} s; medians (peak RSS: worst round)`);
    console.log(
      '| gateway | idle RSS MB | idle live heap MB | CPU µs/req | req/s | peak RSS MB | heapTotal max | heapUsed max | external max | arrayBuffers max | live after GC |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const g of gws)
      console.log(
        `| ${g.name} | ${idle[g.name]!.rssMb.toFixed(0)} | ${idle[g.name]!.liveMb.toFixed(1)} | ${med(g, 'cpuUs')} | ${med(g, 'rps')} | ${worst(g, 'peakRssMb')} | ${med(g, 'heapTotalMaxMb')} | ${med(g, 'heapUsedMaxMb')} | ${med(g, 'externalMaxMb')} | ${med(g, 'arrayBuffersMaxMb')} | ${med(g, 'liveAfterGcMb')} |`,
      );
  } finally {
    for (const s of started.reverse()) await s.stop();
    for (const g of gws) rmSync(g.probeFile, { force: true });
    removeLoadScript();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
