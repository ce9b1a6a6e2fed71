/**
 * Rate limits (per user and per client address) and caps (live sessions and share links per
 * user) for the broker API, the /__gate/ credential endpoints and WebSocket upgrades. A refusal is a coded error:
 * `rate_limited` (429 with `Retry-After`), `too_many_sessions` / `too_many_shares` (409, saying
 * what to end). The slot sets behind the caps double as the indexes "every session of user U" and
 * "every session of sandbox S" (`store.listSlots(userSessionsKey(u), now)`).
 */
import { GateError } from '../../../protocol/index.js';
import type { Clock, Logger } from '../contracts.js';
import type { Store } from '../store/store.js';
import { RATE_ACTIONS, type RateAction, type ResolvedLimits } from './config.js';
import type { RateLimiter, RateLimiterFactory } from './limiter.js';

/** Slot-set keys: the cap and index of a user's sessions, the index of a sandbox's sessions, a user's shares. */
export const userSessionsKey = (userId: string) => `sessions:user:${userId}`;
export const sandboxSessionsKey = (sandboxId: string) => `sessions:sandbox:${sandboxId}`;
export const userSharesKey = (userId: string) => `shares:user:${userId}`;

const WHAT: Record<RateAction, string> = {
  launch: 'preview launches',
  exchange: 'launch-code exchanges',
  refresh: 'credential renewals',
  wsTicket: 'WebSocket tickets',
  share: 'share links created',
  upgrade: 'WebSocket connections opened',
};

export interface Who {
  user?: string | undefined;
  address?: string | undefined;
  /** The request's logger (broker/core/ops.ts `requestLog`): a refusal's line carries its `rid`. */
  log?: Logger | undefined;
}

export type Limits = ReturnType<typeof createLimits>;

export function createLimits(d: { limits: ResolvedLimits; factory: RateLimiterFactory | undefined; store: Store; clock: Clock; logger: Logger }) {
  const { limits, factory, store, clock, logger } = d;
  const limiters = new Map<string, RateLimiter>();
  if (factory) {
    for (const action of RATE_ACTIONS) {
      for (const dim of ['user', 'address'] as const) {
        const points = limits.rates[action][dim];
        if (points > 0) limiters.set(`${action}:${dim}`, factory({ name: `pg-rl:${action}:${dim}`, points, durationSeconds: limits.windowSeconds }));
      }
    }
  }

  async function take(action: RateAction, dim: 'user' | 'address', key: string | undefined, spend: boolean, log: Logger | undefined): Promise<void> {
    const limiter = key ? limiters.get(`${action}:${dim}`) : undefined;
    if (!limiter || !key) return;
    const r = spend ? await limiter.consume(key) : await limiter.peek(key);
    if (r.allowed) return;
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    (log ?? logger).warn('rate_limited', { action, by: dim });
    throw new GateError(
      'rate_limited',
      `Too many ${WHAT[action]} ${dim === 'user' ? 'by this user' : 'from this address'}: at most ${limits.rates[action][dim]} per ${limits.windowSeconds} s. Retry in ${seconds} s.`,
      { 'retry-after': String(seconds) },
    );
  }

  return {
    /** Whether any rate limit is active (a factory was given and a rule is non-zero). */
    enabled: limiters.size > 0,

    /** Spends one point of `action` for each known dimension; throws `rate_limited` when one is spent out. */
    async take(action: RateAction, who: Who): Promise<void> {
      await take(action, 'user', who.user, true, who.log);
      await take(action, 'address', who.address, true, who.log);
    },

    /**
     * Refuses when `action` is spent out for the user, spending nothing: for work that counts only
     * once it has happened (a refresh rotation; concurrent renewals of one credential share it).
     */
    async check(action: RateAction, who: Who): Promise<void> {
      await take(action, 'user', who.user, false, who.log);
      await take(action, 'address', who.address, false, who.log);
    },

    /** Spends one point after the fact; never refuses (the check came first). */
    async spend(action: RateAction, who: Who): Promise<void> {
      for (const dim of ['user', 'address'] as const) {
        const key = who[dim];
        if (key) await limiters.get(`${action}:${dim}`)?.consume(key);
      }
    },

    /** Claims one of the user's live-session slots (and indexes the session by sandbox) until `until`. */
    async claimSession(s: { id: string; userId: string; sandboxId: string }, until: number): Promise<void> {
      const now = clock();
      const cap = s.userId.startsWith('share:') ? Infinity : limits.maxSessionsPerUser;
      if (!(await store.claimSlot(userSessionsKey(s.userId), s.id, cap, until, now))) {
        throw new GateError(
          'too_many_sessions',
          `You have ${limits.maxSessionsPerUser} live preview sessions, the most allowed. End one you no longer use (DELETE /api/previews/{sessionId}, or close its preview), or wait until one ends.`,
        );
      }
      await store.claimSlot(sandboxSessionsKey(s.sandboxId), s.id, Infinity, until, now);
    },

    async releaseSession(s: { id: string; userId: string; sandboxId: string }): Promise<void> {
      await Promise.all([store.releaseSlot(userSessionsKey(s.userId), s.id), store.releaseSlot(sandboxSessionsKey(s.sandboxId), s.id)]);
    },

    async claimShare(share: { id: string; creatorId: string; expiresAt: number }): Promise<void> {
      if (!(await store.claimSlot(userSharesKey(share.creatorId), share.id, limits.maxSharesPerUser, share.expiresAt, clock()))) {
        throw new GateError(
          'too_many_shares',
          `You have ${limits.maxSharesPerUser} live share links, the most allowed. Revoke one you no longer need (DELETE /api/shares/{id}), or wait until one expires.`,
        );
      }
    },

    async releaseShare(share: { id: string; creatorId: string }): Promise<void> {
      await store.releaseSlot(userSharesKey(share.creatorId), share.id);
    },
  };
}
