/**
 * The proxying scenarios, every system side by side (direct, nginx, the minimal Node proxy, the
 * gateway), warm-up first, rounds interleaved:
 *  - small: 16 connections of small GETs (a ~0.5 KB JSON answer): req/s, p50, p99, the proxy's
 *    CPU per request (user + system time of its processes / requests) and its peak RSS; beside
 *    the minimal proxy, the same proxy carrying the gateway's headers both ways (minimalBytes,
 *    bench/minimal-proxy.mjs MINIMAL_BYTES=1): what the product's bytes cost without its logic;
 *  - websocket: echo round trips on one connection;
 *  - transfer: 1 GiB download and 1 GiB upload (Content-Length): MB/s, the proxy's resident
 *    memory growth during the transfer (peak RSS − RSS before) and CPU per MB.
 */
import { systemResult, type ScenarioResult } from '../results.js';
import { runLoad } from '../run-load.js';
import { fmt, fmtSummary, markdownTable, ratio } from '../stats.js';
import { interleaved, present, type Ctx, type Scenario } from './context.js';

const ALL = ['direct', 'nginx', 'minimal', 'gateway'] as const;
/** Small requests also measure the byte floor: the minimal proxy carrying the gateway's headers. */
const SMALL = ['direct', 'nginx', 'minimal', 'minimalBytes', 'gateway'] as const;
const LABEL: Record<string, string> = {
  direct: 'direct (no proxy)',
  nginx: 'nginx injecting the token',
  minimal: 'minimal Node proxy (bench/minimal-proxy.mjs)',
  minimalBytes: "minimal Node proxy + the gateway's bytes (MINIMAL_BYTES=1)",
  gateway: 'preview-gate (bundle, GATE_LOG=off)',
};
export const label = (name: string) => LABEL[name] ?? name;

const med = (r: ScenarioResult, sys: string, f: string) => r.systems[sys]?.summary[f]?.median;

export const small: Scenario = {
  name: 'small',
  description: 'Small GETs (~0.5 KB JSON answer) over 16 keep-alive connections: throughput, latency, CPU per request and peak RSS of each proxy.',
  async run(ctx: Ctx) {
    const concurrency = 16;
    const seconds = ctx.quick ? 1 : 5;
    const rounds = ctx.quick ? 1 : 3;
    const systems = present(ctx, [...SMALL]);
    const job = (s: (typeof systems)[number], secs: number) => ({ kind: 'requests', target: s.target, path: '/api/echo', concurrency, seconds: secs });
    const out = await interleaved(
      systems,
      rounds,
      (s) => runLoad(job(s, ctx.quick ? 0.5 : 3)),
      async (s) => {
        ctx.stack.resetPeak(s.name);
        const cpu0 = ctx.stack.cpuMs(s.name);
        const r = await runLoad(job(s, seconds));
        const cpuMs = ctx.stack.cpuMs(s.name) - cpu0;
        const own = s.pids().length > 0;
        return {
          rps: r.rps!,
          p50: r.p50!,
          p99: r.p99!,
          errors: r.errors!,
          count: r.count!,
          ...(own ? { cpuUsPerReq: (1000 * cpuMs) / r.count!, peakRssMb: ctx.stack.memory(s.name).hwmMb } : {}),
        };
      },
    );
    return {
      params: { concurrency, seconds, rounds, path: '/api/echo', identityBytes: ctx.stack.identityBytes },
      systems: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, systemResult(v)])),
    };
  },
  report(r) {
    const rows = Object.entries(r.systems).map(([sys, x]) => [
      label(sys),
      fmtSummary(x.summary.rps, 0),
      fmt(ratio(med(r, sys, 'rps'), med(r, 'nginx', 'rps')), 2),
      fmt(med(r, sys, 'p50'), 2),
      fmt(ratio(med(r, sys, 'p50'), med(r, 'nginx', 'p50')), 2),
      fmt(med(r, sys, 'p99'), 2),
      fmt(ratio(med(r, sys, 'p99'), med(r, 'nginx', 'p99')), 2),
      x.summary.cpuUsPerReq ? fmtSummary(x.summary.cpuUsPerReq, 0) : '–',
      x.summary.cpuUsPerReq ? fmt(ratio(med(r, sys, 'cpuUsPerReq'), med(r, 'minimal', 'cpuUsPerReq')), 2) : '–',
      x.summary.peakRssMb ? fmt(x.summary.peakRssMb.median, 0) : '–',
      String(x.rounds.reduce((a, b) => a + (b.errors ?? 0), 0)),
    ]);
    return `### Small requests (${r.params.concurrency} connections, ~0.5 KB answer; median of ${r.params.rounds} × ${r.params.seconds} s rounds, range in brackets)\n\n${markdownTable(
      ['system', 'req/s', 'vs nginx', 'p50 ms', 'p50 vs nginx', 'p99 ms', 'p99 vs nginx', 'CPU µs/req', 'CPU vs minimal', 'peak RSS MB', 'errors'],
      rows,
    )}${byteFloor(r)}`;
  },
};

/** The share of the gateway's CPU above the minimal proxy that its bytes alone cost (minimal+bytes − minimal). */
function byteFloor(r: ScenarioResult): string {
  const [m, b, g] = (['minimal', 'minimalBytes', 'gateway'] as const).map((s) => med(r, s, 'cpuUsPerReq'));
  if (m === undefined || b === undefined || g === undefined || !(g > m)) return '';
  return (
    `\n\nThe byte floor: the gateway's headers (identity assertion ${r.params.identityBytes} bytes, request id, forwarding headers; ` +
    `Daytona's cookie dropped) cost the minimal proxy ${fmt(b - m, 0)} µs/request; the gateway is ${fmt(g - m, 0)} µs above the minimal proxy, ` +
    `so ${fmt((100 * (b - m)) / (g - m), 0)}% of that is bytes and ${fmt((100 * (g - b)) / (g - m), 0)}% the gateway's JavaScript ` +
    `(gateway ${fmt(ratio(g, b), 2)}× minimal+bytes).`
  );
}

export const websocket: Scenario = {
  name: 'websocket',
  description: 'WebSocket echo round trips, one connection, one message in flight (the relay latency of each proxy).',
  async run(ctx) {
    const messages = ctx.quick ? 300 : 3000;
    const rounds = ctx.quick ? 1 : 3;
    const systems = present(ctx, [...ALL]);
    const out = await interleaved(
      systems,
      rounds,
      (s) => runLoad({ kind: 'websocket', target: s.target, path: '/ws', messages: 200 }),
      async (s) => {
        const cpu0 = ctx.stack.cpuMs(s.name);
        const r = await runLoad({ kind: 'websocket', target: s.target, path: '/ws', messages });
        const cpuMs = ctx.stack.cpuMs(s.name) - cpu0;
        return { rtPerSec: r.rtPerSec!, ...(s.pids().length ? { cpuUsPerRt: (1000 * cpuMs) / messages } : {}) };
      },
    );
    return { params: { messages, rounds }, systems: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, systemResult(v)])) };
  },
  report(r) {
    const rows = Object.entries(r.systems).map(([sys, x]) => [
      label(sys),
      fmtSummary(x.summary.rtPerSec, 0),
      fmt(ratio(med(r, sys, 'rtPerSec'), med(r, 'nginx', 'rtPerSec')), 2),
      x.summary.cpuUsPerRt ? fmtSummary(x.summary.cpuUsPerRt, 0) : '–',
    ]);
    return `### WebSocket echo (${r.params.messages} round trips per round, median of ${r.params.rounds})\n\n${markdownTable(['system', 'round trips/s', 'vs nginx', 'CPU µs/round trip'], rows)}`;
  },
};

export const transfer: Scenario = {
  name: 'transfer',
  description:
    'A large download and upload (1 GiB each, Content-Length) through each proxy: MB/s, resident memory growth of the proxy during the transfer, CPU per MB.',
  async run(ctx) {
    const bytes = ctx.quick ? 16 * 1024 * 1024 : 1024 * 1024 * 1024;
    const rounds = ctx.quick ? 1 : 2;
    const systems = present(ctx, [...ALL]);
    const warm = (ctx.quick ? 4 : 64) * 1024 * 1024;
    const out = await interleaved(
      systems,
      rounds,
      async (s) => {
        await runLoad({ kind: 'download', target: s.target, path: `/download?bytes=${warm}`, repeat: 1 });
        await runLoad({ kind: 'upload', target: s.target, path: '/upload', bytes: warm, repeat: 1 });
      },
      async (s) => {
        const one = async (job: object) => {
          const rss0 = ctx.stack.memory(s.name).rssMb;
          ctx.stack.resetPeak(s.name);
          const cpu0 = ctx.stack.cpuMs(s.name);
          const r = await runLoad(job);
          const cpuMs = ctx.stack.cpuMs(s.name) - cpu0;
          if (r.errors) throw new Error(`${s.name}: ${JSON.stringify(job).slice(0, 80)} answered ${r.badStatus}`);
          return { mbps: r.mbps!, growthMb: ctx.stack.memory(s.name).hwmMb - rss0, cpuMsPerMb: cpuMs / (r.bytes! / 1e6) };
        };
        const d = await one({ kind: 'download', target: s.target, path: `/download?bytes=${bytes}`, repeat: 1 });
        const u = await one({ kind: 'upload', target: s.target, path: '/upload', bytes, repeat: 1 });
        const own = s.pids().length > 0;
        return {
          downloadMbps: d.mbps,
          uploadMbps: u.mbps,
          ...(own ? { downloadGrowthMb: d.growthMb, uploadGrowthMb: u.growthMb, downloadCpuMsPerMb: d.cpuMsPerMb, uploadCpuMsPerMb: u.cpuMsPerMb } : {}),
        };
      },
    );
    return { params: { bytes, rounds }, systems: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, systemResult(v)])) };
  },
  report(r) {
    const size = Number(r.params.bytes) >= 1024 ** 3 ? `${Number(r.params.bytes) / 1024 ** 3} GiB` : `${Number(r.params.bytes) / 1024 ** 2} MiB`;
    const rows = Object.entries(r.systems).map(([sys, x]) => [
      label(sys),
      fmtSummary(x.summary.downloadMbps, 0),
      fmt(ratio(med(r, sys, 'downloadMbps'), med(r, 'nginx', 'downloadMbps')), 2),
      fmtSummary(x.summary.uploadMbps, 0),
      fmt(ratio(med(r, sys, 'uploadMbps'), med(r, 'nginx', 'uploadMbps')), 2),
      x.summary.downloadGrowthMb ? `${fmt(x.summary.downloadGrowthMb.max, 0)} / ${fmt(x.summary.uploadGrowthMb?.max, 0)}` : '–',
      x.summary.downloadCpuMsPerMb ? `${fmt(x.summary.downloadCpuMsPerMb.median, 2)} / ${fmt(x.summary.uploadCpuMsPerMb?.median, 2)}` : '–',
    ]);
    return `### ${size} download and upload (median of ${r.params.rounds} rounds)\n\n${markdownTable(
      ['system', 'download MB/s', 'vs nginx', 'upload MB/s', 'vs nginx', 'RSS growth MB (down / up, worst round)', 'CPU ms/MB (down / up)'],
      rows,
    )}`;
  },
};
