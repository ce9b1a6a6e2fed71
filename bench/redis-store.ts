/**
 * The bench's store phase: the same gateway run twice side by side, one with the in-memory store
 * (the main bench's gateway) and one with the Redis store (GATE_REDIS_URL to a redis-server the
 * bench starts, test/support/redis.ts), the same small-request load on each, alternated over
 * `rounds` so machine noise falls on both. The hot path of a proxied request makes no Redis call
 * (revocations are a local view, keys are in memory), so the two should be within noise: the
 * issue's bar is Redis costing < 10% of the memory store's throughput.
 * BENCH_REDIS=0 skips it; without redis-server it is skipped with a note.
 */
import { freePort, startProcess } from './processes.js';
import { launchGrant } from './setup.js';
import { redisAvailable, startRedis } from '../test/support/redis.js';

interface Target {
  port: number;
  host: string;
  headers: Record<string, string>;
}

export interface RedisPhaseOptions {
  /** The main bench's gateway (memory store) and how to reach its preview. */
  memory: Target;
  gatewayArgs: string[];
  env: Record<string, string>;
  sandboxId: string;
  secret: string;
  runLoad(job: object): Promise<Record<string, number>>;
  concurrency: number;
  seconds: number;
  rounds?: number;
}

export async function redisStorePhase(o: RedisPhaseOptions): Promise<string[]> {
  if (process.env.BENCH_REDIS === '0') return ['store phase skipped (BENCH_REDIS=0)'];
  if (!redisAvailable()) return ['store phase skipped: redis-server not installed'];
  const redis = await startRedis();
  const port = await freePort();
  const gateway = await startProcess(
    process.execPath,
    o.gatewayArgs,
    {
      ...o.env,
      GATE_PORT: String(port),
      GATE_REDIS_URL: redis.url,
      GATE_KEYS_SECRET: 'bench-keys-secret-bench-keys-secret-0123',
    },
    ['GATEWAY_URL'],
  );
  try {
    const { previewHost, accessToken } = await launchGrant({ gatePort: port, sandboxId: o.sandboxId, secret: o.secret });
    const withRedis: Target = { port, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } };
    const rps = { memory: [] as number[], redis: [] as number[] };
    const errors = { memory: 0, redis: 0 };
    for (let i = 0; i < (o.rounds ?? 2); i++) {
      for (const [name, target] of [
        ['memory', o.memory],
        ['redis', withRedis],
      ] as const) {
        const r = await o.runLoad({ kind: 'requests', target, path: '/api/echo', concurrency: o.concurrency, seconds: o.seconds });
        rps[name].push(r.rps ?? 0);
        errors[name] += r.errors ?? 0;
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    const m = mean(rps.memory);
    const rd = mean(rps.redis);
    return [
      '',
      `| store (small GET, ${o.concurrency} concurrent, ${rps.memory.length} alternating rounds) | memory | redis | redis/memory |`,
      '|---|---|---|---|',
      `| throughput | ${m.toFixed(0)} req/s | ${rd.toFixed(0)} req/s | ${(rd / m).toFixed(2)} |`,
      `| errors | ${errors.memory} | ${errors.redis} | |`,
    ];
  } finally {
    await gateway.stop();
    await redis.close();
  }
}
