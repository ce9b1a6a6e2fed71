/**
 * 10,000 idle authenticated WebSockets (each proven live by one echo, then left idle): resident
 * memory per connection of each proxy ((RSS with them open − RSS before) / connections), and
 * for the gateway the live heap per connection (heapUsed after a full GC, bench/memory-probe.mjs).
 *
 * File descriptors: every proxied connection costs a proxy two (client side and upstream side),
 * and the emulator two more, all under one `ulimit -n` (20000 on the machine this was written on,
 * a hard limit an unprivileged process cannot raise). So the count is 10,000 or, where the limit
 * is lower, as many as fit: (limit − 300) / 2; the run records the count it used. nginx runs with
 * `worker_connections` and `worker_rlimit_nofile` raised to the limit (bench/systems.ts).
 */
import { systemResult } from '../results.js';
import { holdIdleWebSockets } from '../run-load.js';
import { fmt, markdownTable } from '../stats.js';
import { maxFiles } from '../systems.js';
import { label } from './http.js';
import { interleaved, present, type Scenario } from './context.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const idleWebsockets: Scenario = {
  name: 'idleWebsockets',
  description:
    'Idle authenticated WebSockets held open through each proxy (10,000, or as many as ulimit -n allows): resident memory per connection, and the gateway’s live heap per connection.',
  async run(ctx) {
    const limit = maxFiles();
    const connections = Number(process.env.BENCH_IDLE_WS) || (ctx.quick ? 200 : Math.min(10_000, Math.floor((limit - 300) / 2)));
    const rounds = 1;
    // Time for closes and allocations to settle before a reading (shorter in --quick).
    const settle = (ms: number) => wait(ctx.quick ? ms / 4 : ms);
    const systems = present(ctx, ['nginx', 'minimal', 'gateway']);
    const out = await interleaved(
      systems,
      rounds,
      async (s) => {
        const h = await holdIdleWebSockets({ target: s.target, path: '/ws', connections: ctx.quick ? 50 : 200 }, ctx.stack.endAppWebSockets);
        await h.close();
        await settle(500);
      },
      async (s) => {
        const isGateway = s.name === 'gateway';
        await settle(1000);
        const heap0 = isGateway ? (await ctx.stack.gatewayProbe())?.now.heapUsed : undefined;
        const rss0 = ctx.stack.memory(s.name).rssMb;
        const h = await holdIdleWebSockets({ target: s.target, path: '/ws', connections }, ctx.stack.endAppWebSockets);
        try {
          // Some refusals on a machine short of ports are a finding to record, not a broken bench;
          // most of them failing is.
          if (h.open < connections / 2) throw new Error(`${s.name}: ${h.failed} of ${connections} WebSockets failed to open (${h.firstError})`);
          if (h.failed) ctx.log(`idleWebsockets: ${s.name}: ${h.failed} of ${connections} failed to open (${h.firstError})`);
          await settle(2000);
          const rss1 = ctx.stack.memory(s.name).rssMb;
          const heap1 = isGateway ? (await ctx.stack.gatewayProbe())?.now.heapUsed : undefined;
          return {
            connections: h.open,
            failed: h.failed,
            openSeconds: h.seconds,
            rssBeforeMb: rss0,
            rssOpenMb: rss1,
            kbPerConnection: ((rss1 - rss0) * 1024) / h.open,
            ...(heap0 !== undefined && heap1 !== undefined ? { heapKbPerConnection: (heap1 - heap0) / 1024 / h.open } : {}),
          };
        } finally {
          await h.close();
          await settle(1000);
        }
      },
    );
    return { params: { connections, ulimitN: limit, rounds }, systems: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, systemResult(v)])) };
  },
  report(r) {
    const rows = Object.entries(r.systems).map(([sys, x]) => [
      label(sys),
      fmt(x.summary.connections?.median, 0),
      fmt(x.summary.rssBeforeMb?.median, 0),
      fmt(x.summary.rssOpenMb?.median, 0),
      fmt(x.summary.kbPerConnection?.median, 1),
      x.summary.heapKbPerConnection ? fmt(x.summary.heapKbPerConnection.median, 1) : '–',
      fmt(x.summary.openSeconds?.median, 1),
    ]);
    return `### Idle authenticated WebSockets (${r.params.connections} at once; ulimit -n ${r.params.ulimitN})\n\n${markdownTable(
      ['system', 'connections', 'RSS before MB', 'RSS with them open MB', 'KB RSS per connection', 'KB live heap per connection', 'seconds to open all'],
      rows,
    )}`;
  },
};
