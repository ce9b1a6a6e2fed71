/**
 * The Redis store vs the memory store: the bench's gateway (memory store) beside a second one
 * started the same way with GATE_REDIS_URL pointing at a real redis-server the bench starts
 * (test/support/redis.ts), both warmed up, then interleaved rounds of the same two loads on each:
 * small GETs (a proxied request makes no Redis call: revocations are a local view, keys are in
 * memory, so these should be within noise) and new sessions per second (launch + exchange write
 * and read the store: here Redis costs round trips). Fails without redis-server (.ci/run
 * installs it).
 */
import { redisAvailable, startRedis } from '../../test/support/redis.js';
import { systemResult } from '../results.js';
import { runLoad } from '../run-load.js';
import { cpuMsOf, startProcess } from '../processes.js';
import { launchGrant, userSession } from '../setup.js';
import { fmt, fmtSummary, markdownTable, ratio } from '../stats.js';
import { SECRET } from '../systems.js';
import type { Scenario } from './context.js';

export const store: Scenario = {
  name: 'store',
  description: 'The gateway with the Redis store (real redis-server) vs the memory store: small GETs per second and new sessions per second.',
  async run(ctx) {
    if (!redisAvailable()) throw new Error('redis-server is not installed (apt-get install redis-server)');
    const rounds = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 1 : 4;
    const st = ctx.stack;
    const redis = await startRedis();
    const gw = await startProcess(
      process.execPath,
      st.gatewayArgs,
      { ...st.gatewayEnv, GATE_PORT: '0', GATE_REDIS_URL: redis.url, GATE_KEYS_SECRET: 'bench-keys-secret-bench-keys-secret-0123' },
      ['GATEWAY_URL'],
    );
    try {
      const redisPort = Number(new URL(gw.values.GATEWAY_URL!).port);
      const session = await userSession(SECRET);
      const grant = await launchGrant({ gatePort: redisPort, sandboxId: st.sandboxId, secret: SECRET, session });
      const variants = {
        memory: { port: st.gatewayPort, target: st.systems.gateway!.target, pid: st.gatewayPid },
        redis: {
          port: redisPort,
          target: { port: redisPort, host: grant.previewHost, headers: { 'x-daytona-preview-token': grant.accessToken } },
          pid: gw.child.pid!,
        },
      };
      const small = (v: (typeof variants)['memory'], secs: number) =>
        runLoad({ kind: 'requests', target: v.target, path: '/api/echo', concurrency: 16, seconds: secs });
      const mint = (v: (typeof variants)['memory'], secs: number) =>
        runLoad({ kind: 'mint', gatePort: v.port, sandboxId: st.sandboxId, session, concurrency: 8, seconds: secs });
      for (const v of Object.values(variants)) {
        await small(v, ctx.quick ? 0.5 : 2);
        await mint(v, ctx.quick ? 0.3 : 1);
      }
      const out: Record<string, Record<string, number>[]> = { memory: [], redis: [] };
      for (let r = 0; r < rounds; r++) {
        for (const [name, v] of Object.entries(variants)) {
          const c0 = cpuMsOf(v.pid);
          const s = await small(v, seconds);
          const c1 = cpuMsOf(v.pid);
          const m = await mint(v, seconds);
          const c2 = cpuMsOf(v.pid);
          out[name]!.push({
            smallRps: s.rps!,
            smallP50: s.p50!,
            smallCpuUsPerReq: ((c1 - c0) * 1000) / s.count!,
            mintPerSec: m.perSec!,
            mintCpuUsPerOp: ((c2 - c1) * 1000) / Math.max(1, m.count!),
            errors: s.errors! + m.errors!,
          });
        }
      }
      return { params: { rounds, seconds }, systems: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, systemResult(v)])) };
    } finally {
      await gw.stop();
      await redis.close();
    }
  },
  report(r) {
    const m = (sys: string, f: string) => r.systems[sys]?.summary[f]?.median;
    const rows = ['memory', 'redis'].map((sys) => {
      const x = r.systems[sys]!.summary;
      return [
        `${sys} store`,
        fmtSummary(x.smallRps, 0),
        fmt(ratio(m(sys, 'smallRps'), m('memory', 'smallRps')), 2),
        fmtSummary(x.smallCpuUsPerReq, 0),
        fmtSummary(x.mintPerSec, 0),
        fmt(ratio(m(sys, 'mintPerSec'), m('memory', 'mintPerSec')), 2),
        fmtSummary(x.mintCpuUsPerOp, 0),
        String(r.systems[sys]!.rounds.reduce((a, b) => a + (b.errors ?? 0), 0)),
      ];
    });
    return `### Redis store vs memory store (median of ${r.params.rounds} interleaved rounds of ${r.params.seconds} s each)\n\n${markdownTable(
      ['gateway', 'small GET req/s', 'vs memory', 'CPU µs/req', 'new sessions/s', 'vs memory', 'CPU µs/session', 'errors'],
      rows,
    )}`;
  },
};
