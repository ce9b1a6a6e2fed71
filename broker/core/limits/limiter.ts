/**
 * The seam between the portable core and a rate-limiting library. The core only asks "may this
 * key spend one more point?"; broker/node/rate-limiter.ts answers with rate-limiter-flexible
 * (RateLimiterMemory, or RateLimiterRedis over a node-redis client so every instance of a fleet
 * shares the counts). The library's entry module pulls in node:cluster, so it stays out of the core.
 */

export interface RateDecision {
  allowed: boolean;
  /** When refused: milliseconds until the window lets the key in again. */
  retryAfterMs: number;
}

/** One fixed-window counter family: `points` per `durationSeconds` per key. */
export interface RateLimiter {
  /** Spends one point; refused (nothing spent) when the window is spent out. */
  consume(key: string): Promise<RateDecision>;
  /** Whether one more point would be allowed, spending nothing. */
  peek(key: string): Promise<RateDecision>;
}

export interface RateRuleSpec {
  /** Distinct per rule (a key prefix in Redis), e.g. `pg-rl:launch:user`. */
  name: string;
  points: number;
  durationSeconds: number;
}

export type RateLimiterFactory = (rule: RateRuleSpec) => RateLimiter;
