/**
 * Rate limits and caps: options and defaults. Rate limits count requests per user and per client
 * address in a fixed window (rate-limiter-flexible's memory or Redis limiter, injected through
 * `RateLimiterFactory`, see limiter.ts); caps bound what one user keeps alive in the store.
 *
 * The defaults leave a web IDE plenty of room: a page load never trips them, because the only
 * request a page repeats in a burst (the cookie renewal of many subresources with an expired
 * access cookie) is counted per user only when it really rotates a credential: the other
 * renewals of the burst get the same successor through the grace window (ARCHITECTURE.md flow 4).
 */

/** The limited actions. */
export const RATE_ACTIONS = ['launch', 'exchange', 'refresh', 'wsTicket', 'share', 'upgrade'] as const;
export type RateAction = (typeof RATE_ACTIONS)[number];

/** Requests allowed per window; 0 = no limit on that dimension. */
export interface RateRule {
  user?: number;
  address?: number;
}

export interface LimitsConfig {
  /** Per action (GATE_RATE_LIMITS, e.g. `launch=60/120,share=30/60`: user/address). `false`: off. */
  rateLimits?: false | Partial<Record<RateAction, RateRule>>;
  /** Window of every rate limit in seconds (GATE_RATE_WINDOW). Default 60; 1..3600. */
  windowSeconds?: number;
  /** Live preview sessions per user (GATE_MAX_SESSIONS_PER_USER). Default 200; 1..100000. */
  maxSessionsPerUser?: number;
  /** Live share links per user (GATE_MAX_SHARES_PER_USER). Default 100; 1..100000. */
  maxSharesPerUser?: number;
}

export interface ResolvedLimits {
  /** Per action and dimension; 0 = unlimited. */
  rates: Record<RateAction, { user: number; address: number }>;
  windowSeconds: number;
  maxSessionsPerUser: number;
  maxSharesPerUser: number;
}

/**
 * Defaults per 60 s. `exchange` has no per-user count (the user is known only once the one-time
 * code is consumed); `refresh` per user counts rotations only (grace-window repeats are free),
 * per address every attempt, including bad credentials; `upgrade` per address every handshake
 * (before its credential is looked at), per user the authenticated ones (a public sandbox's
 * visitors have no user: address only).
 */
export const DEFAULT_RATES: Record<RateAction, { user: number; address: number }> = {
  launch: { user: 60, address: 240 },
  exchange: { user: 0, address: 240 },
  refresh: { user: 120, address: 1200 },
  wsTicket: { user: 240, address: 600 },
  share: { user: 30, address: 120 },
  // WebSocket upgrades on preview origins (upgrade.ts): each one opens a connection to Daytona's
  // proxy and the sandbox, so a loop of them from one session is bounded. A dev server's HMR
  // client reconnects, and Vite pings with a WebSocket every second while its server restarts
  // (once per visible tab): 600 a minute is ten tabs doing so at once.
  upgrade: { user: 600, address: 1200 },
};

function count(name: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`preview-gate config: limits.${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

export function resolveLimits(c: LimitsConfig | undefined): ResolvedLimits {
  const cfg = c ?? {};
  const rates = {} as ResolvedLimits['rates'];
  for (const action of RATE_ACTIONS) {
    if (cfg.rateLimits === false) {
      rates[action] = { user: 0, address: 0 };
      continue;
    }
    const rule = cfg.rateLimits?.[action] ?? {};
    rates[action] = {
      user: count(`rateLimits.${action}.user (GATE_RATE_LIMITS)`, rule.user, DEFAULT_RATES[action].user, 0, 1_000_000),
      address: count(`rateLimits.${action}.address (GATE_RATE_LIMITS)`, rule.address, DEFAULT_RATES[action].address, 0, 1_000_000),
    };
  }
  for (const key of Object.keys(cfg.rateLimits || {})) {
    if (!(RATE_ACTIONS as readonly string[]).includes(key)) {
      throw new TypeError(`preview-gate config: limits.rateLimits (GATE_RATE_LIMITS) knows ${RATE_ACTIONS.join(', ')}; got "${key}"`);
    }
  }
  return {
    rates,
    windowSeconds: count('windowSeconds (GATE_RATE_WINDOW)', cfg.windowSeconds, 60, 1, 3600),
    maxSessionsPerUser: count('maxSessionsPerUser (GATE_MAX_SESSIONS_PER_USER)', cfg.maxSessionsPerUser, 200, 1, 100_000),
    maxSharesPerUser: count('maxSharesPerUser (GATE_MAX_SHARES_PER_USER)', cfg.maxSharesPerUser, 100, 1, 100_000),
  };
}

/**
 * Parses GATE_RATE_LIMITS: `off`, or a comma list of `action=user/address` (either side may be
 * empty to keep its default, 0 for no limit), e.g. `launch=30/100,exchange=/60`.
 */
export function parseRateLimitsEnv(v: string): LimitsConfig['rateLimits'] {
  const s = v.trim();
  if (s.toLowerCase() === 'off') return false;
  const out: Partial<Record<RateAction, RateRule>> = {};
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)=(\d*)\/(\d*)$/.exec(part);
    if (!m || !(RATE_ACTIONS as readonly string[]).includes(m[1]!)) {
      throw new TypeError(
        `preview-gate: GATE_RATE_LIMITS must be "off" or a comma list of action=user/address with action one of ${RATE_ACTIONS.join(', ')}; got "${part}"`,
      );
    }
    out[m[1] as RateAction] = { ...(m[2] ? { user: Number(m[2]) } : {}), ...(m[3] ? { address: Number(m[3]) } : {}) };
  }
  return out;
}
