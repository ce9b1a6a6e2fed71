/**
 * The rate limiter behind broker/core/limits/limiter.ts: rate-limiter-flexible. In memory for
 * one process; over Redis (node-redis / @redis/client, `useRedisPackage: true`) when a client is
 * given, so every gateway of a fleet counts against the same windows.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimiterFactory } from '../core/limits/limiter.js';

/** Anything rate-limiter-flexible accepts as a node-redis client (e.g. `createClient()` of @redis/client). */
export type RedisLikeClient = object;

/**
 * @example
 * const factory = createRateLimiterFactory();                 // one process
 * const shared = createRateLimiterFactory({ redis: client }); // a fleet sharing Redis
 */
export function createRateLimiterFactory(opts: { redis?: RedisLikeClient | null; prefix?: string } = {}): RateLimiterFactory {
  return (rule) => {
    const base = { points: rule.points, duration: rule.durationSeconds, keyPrefix: `${opts.prefix ?? ''}${rule.name}` };
    // With Redis unreachable, each instance counts in its own memory (insuranceLimiter) rather
    // than failing the request: limits stay on, only no longer shared for the outage.
    const lib: RateLimiterAbstract = opts.redis
      ? new RateLimiterRedis({
          ...base,
          storeClient: opts.redis,
          useRedisPackage: true,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory(base),
        })
      : new RateLimiterMemory(base);
    const limiter: RateLimiter = {
      async consume(key) {
        try {
          await lib.consume(key, 1);
          return { allowed: true, retryAfterMs: 0 };
        } catch (err) {
          // A refusal is a RateLimiterRes; anything else is the store failing: let it surface.
          if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: err.msBeforeNext };
          throw err;
        }
      },
      async peek(key) {
        const res = await lib.get(key);
        if (!res || res.consumedPoints < rule.points) return { allowed: true, retryAfterMs: 0 };
        return { allowed: false, retryAfterMs: res.msBeforeNext };
      },
    };
    return limiter;
  };
}

/**
 * The rate limiter's own node-redis connection to GATE_REDIS_URL (the store's RedisPort keeps
 * its client to itself). Resolves once connected; reconnects by itself afterwards.
 * node-redis is imported here, on first use, not at the top: it is the largest module of the
 * bundle (~1.2 MB of dist/gateway.mjs's 4.7) and a gateway without Redis never needs it
 * (shared-state.ts loads redis-port.ts the same way; test/gateway/redis-lazy.test.ts).
 */
export async function connectLimiterRedis(url: string): Promise<{ client: RedisLikeClient; close(): Promise<void> }> {
  const { createClient } = await import('@redis/client');
  const client = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) } });
  client.on('error', () => {
    /* reconnects by itself; meanwhile the insurance limiter counts */
  });
  await client.connect();
  return {
    client,
    async close() {
      client.destroy();
    },
  };
}
