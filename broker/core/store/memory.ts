/**
 * The embedded default Store: Maps in one process, swept for expired records every
 * `sweepIntervalMs`. Every method does its read-check-write without an `await` in between,
 * which is what makes "consume once" and "rotate" atomic on a single JS thread.
 *
 * What it keeps is bounded by what is live, not by what ever happened (the soak's heap
 * snapshots found ~3.5 KB per session kept for 12 hours, revoked or not; README "Reliability and
 * security"). A session leaves the store, with its refresh chains (every rotated credential of
 * them), `retainRevokedMs` after it was revoked (`revoke('sid:…')`) or after its share link was
 * (`revokeShare`, `revoke('shr:…')`); a launch never exchanged leaves with its code (60 s). Only
 * the revocation marker stays: it is all an access token still in circulation meets
 * (`session_revoked`), so it lasts one access-token lifetime more (`accessTtlMs`), or until the
 * session's end. A revoked share link's record leaves after the same delay (its `shr:` marker
 * answers for the link, `share_revoked`, until the link's end).
 */
import type { Clock } from '../contracts.js';
import type { LaunchCodeRecord, PreviewSessionRecord, RefreshRecord, RotateResult, ShareRecord, Store, WsTicketRecord } from './store.js';

export interface MemoryStoreOptions {
  /** Default `Date.now`. */
  clock?: Clock;
  /** Default 30000; 0 disables the timer (call `sweep` yourself). */
  sweepIntervalMs?: number;
  /**
   * How long a revoked session's records (and a revoked share link's) are kept, ms. Default
   * 60000: the embed's status check (every 2 s while visible) reads `revoked` and a page active
   * in that minute renews into `session_revoked`; later, a renewal reads `invalid_session` and
   * the status 404 (both "ended" to the Service Worker and the embed), while every access token
   * still meets the revocation marker until the session's end. At least 1000.
   */
  retainRevokedMs?: number;
  /**
   * The longest an access token lives, ms (the gateway passes its access TTL). Once a revoked
   * session's records are gone nothing can mint a token for it any more, so its `sid:` marker
   * is kept only until every token minted before the revocation has expired: `retainRevokedMs`
   * + this after the revocation, or the end given to `revoke` if sooner. Default: until that end.
   */
  accessTtlMs?: number;
}

export const DEFAULT_RETAIN_REVOKED_MS = 60_000;

/**
 * @example
 * const store = createMemoryStore({ sweepIntervalMs: 0 });
 * await store.putShare({ id: 's1', creatorId: 'u', sandboxId: 'x', port: 3000, createdAt: 0, expiresAt: Date.now() + 1e6, useCount: 0 });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  const sessions = new Map<string, PreviewSessionRecord>();
  const refresh = new Map<string, RefreshRecord>();
  const revoked = new Map<string, number>();
  /** Whether `key` is revoked now: `isRevokedNow`, and `isRevoked` as a promise. */
  const revokedNow = (key: string): boolean => {
    const exp = revoked.get(key);
    return exp !== undefined && exp > clock();
  };
  const codes = new Map<string, LaunchCodeRecord>();
  const tickets = new Map<string, WsTicketRecord>();
  const shares = new Map<string, ShareRecord>();
  /** Slot sets: key → (member → expiresAt). */
  const slots = new Map<string, Map<string, number>>();
  const all: Map<string, { expiresAt: number }>[] = [sessions, refresh, codes, tickets, shares];
  // At least a second: revoking reads the session once more to free its slots (credentials.ts#revokeSession).
  const retainRevokedMs = Math.max(1000, options.retainRevokedMs ?? DEFAULT_RETAIN_REVOKED_MS);
  /** Session id → the hashes of every refresh credential of its chains (to drop them with it). */
  const chains = new Map<string, string[]>();
  /** Share id → the sessions opened through it. */
  const shareSessions = new Map<string, Set<string>>();
  /** `s:<sessionId>` / `h:<shareId>` → when its records leave (revoked, kept `retainRevokedMs`). */
  const retiring = new Map<string, number>();

  const dropSession = (id: string): void => {
    const s = sessions.get(id);
    sessions.delete(id);
    for (const h of chains.get(id) ?? []) refresh.delete(h);
    chains.delete(id);
    retiring.delete(`s:${id}`);
    if (s?.shareId) {
      const set = shareSessions.get(s.shareId);
      set?.delete(id);
      if (set?.size === 0) shareSessions.delete(s.shareId);
    }
  };
  const dropShare = (id: string): void => {
    shares.delete(id);
    retiring.delete(`h:${id}`);
    for (const sid of shareSessions.get(id) ?? []) dropSession(sid);
    shareSessions.delete(id);
  };
  /** Drops the records whose retention after revocation has passed; with `only`, just that one. */
  const retireDue = (now: number, only?: string): number => {
    let n = 0;
    const keys = only === undefined ? [...retiring.keys()] : [only];
    for (const key of keys) {
      const due = retiring.get(key);
      if (due === undefined || due > now) continue;
      if (key.startsWith('s:')) dropSession(key.slice(2));
      else dropShare(key.slice(2));
      n++;
    }
    return n;
  };
  const retire = (key: string, now: number): void => {
    if (!retiring.has(key)) retiring.set(key, now + retainRevokedMs);
  };
  /** A launch code gone unused: its session never got a credential, so nothing can use it. */
  const codeLapsed = (rec: LaunchCodeRecord): void => {
    if (!chains.has(rec.sessionId)) dropSession(rec.sessionId);
  };

  const chainOf = (sessionId: string): string[] => {
    let c = chains.get(sessionId);
    if (!c) chains.set(sessionId, (c = []));
    return c;
  };

  const live = <T extends { expiresAt: number }>(map: Map<string, T>, key: string): T | null => {
    const v = map.get(key);
    if (!v) return null;
    if (v.expiresAt <= clock()) {
      map.delete(key);
      return null;
    }
    return v;
  };
  const consume = <T extends { expiresAt: number }>(map: Map<string, T>, key: string, now: number): T | null => {
    const v = map.get(key);
    if (!v) return null;
    map.delete(key);
    return v.expiresAt > now ? v : null;
  };

  const sweepNow = (now: number): number => {
    let n = retireDue(now);
    for (const [, rec] of codes) if (rec.expiresAt <= now) codeLapsed(rec);
    for (const map of all) {
      for (const [k, v] of map) {
        if (v.expiresAt <= now) {
          map.delete(k);
          n++;
        }
      }
    }
    for (const [key, members] of slots) {
      for (const [m, exp] of members) if (exp <= now) members.delete(m);
      if (members.size === 0) slots.delete(key);
    }
    for (const [k, exp] of revoked) {
      if (exp <= now) {
        revoked.delete(k);
        n++;
      }
    }
    // Indexes of sessions that ended (or were dropped lazily by a read past their end).
    for (const [id, hashes] of chains) {
      if (!sessions.has(id)) {
        for (const h of hashes) refresh.delete(h);
        chains.delete(id);
      }
    }
    for (const [id, set] of shareSessions) {
      for (const sid of set) if (!sessions.has(sid)) set.delete(sid);
      if (set.size === 0) shareSessions.delete(id);
    }
    return n;
  };

  const interval = options.sweepIntervalMs ?? 30_000;
  let timer: ReturnType<typeof setInterval> | null = null;
  if (interval > 0) {
    timer = setInterval(() => sweepNow(clock()), interval);
    // Never keep a process alive for a sweep (Node timers have unref; others ignore it).
    (timer as unknown as { unref?: () => void }).unref?.();
  }

  return {
    async putSession(r) {
      sessions.set(r.id, { ...r });
      if (r.shareId) {
        let set = shareSessions.get(r.shareId);
        if (!set) shareSessions.set(r.shareId, (set = new Set()));
        set.add(r.id);
      }
    },
    async getSession(id) {
      retireDue(clock(), `s:${id}`);
      const r = live(sessions, id);
      return r ? { ...r } : null;
    },
    async putRefresh(r) {
      refresh.set(r.hash, { ...r });
      chainOf(r.sessionId).push(r.hash);
    },
    async getRefresh(hash) {
      const sid = refresh.get(hash)?.sessionId;
      if (sid !== undefined) retireDue(clock(), `s:${sid}`);
      const r = live(refresh, hash);
      return r ? { ...r } : null;
    },
    async rotateRefresh(oldHash, successor, successorSealed, now): Promise<RotateResult> {
      const sid = refresh.get(oldHash)?.sessionId;
      if (sid !== undefined) retireDue(now, `s:${sid}`);
      const old = live(refresh, oldHash);
      if (!old) return { status: 'unknown' };
      if (old.rotatedAt !== undefined) return { status: 'already_rotated', record: { ...old } };
      old.rotatedAt = now;
      old.successorSealed = successorSealed;
      old.successorHash = successor.hash;
      refresh.set(successor.hash, { ...successor });
      chainOf(successor.sessionId).push(successor.hash);
      return { status: 'rotated' };
    },
    async revoke(key, expiresAt) {
      const now = clock();
      // A `sid:` marker outlives the session's records by one access-token lifetime (see accessTtlMs).
      const until =
        key.startsWith('sid:') && options.accessTtlMs !== undefined ? Math.min(expiresAt, now + retainRevokedMs + options.accessTtlMs + 1000) : expiresAt;
      revoked.set(key, Math.max(until, revoked.get(key) ?? 0));
      if (key.startsWith('sid:')) retire(`s:${key.slice(4)}`, now);
      else if (key.startsWith('shr:')) retire(`h:${key.slice(4)}`, now);
    },
    isRevokedNow: revokedNow,
    async isRevoked(key) {
      return revokedNow(key);
    },
    async putLaunchCode(r) {
      codes.set(r.hash, { ...r });
    },
    async consumeLaunchCode(hash, now) {
      const rec = codes.get(hash);
      const r = consume(codes, hash, now);
      if (rec && !r) codeLapsed(rec);
      return r;
    },
    async putWsTicket(r) {
      tickets.set(r.hash, { ...r });
    },
    async consumeWsTicket(hash, now) {
      return consume(tickets, hash, now);
    },
    async putShare(r) {
      shares.set(r.id, { ...r });
    },
    async getShare(id) {
      retireDue(clock(), `h:${id}`);
      const r = live(shares, id);
      return r ? { ...r } : null;
    },
    async listShares(creatorId, sandboxId) {
      const now = clock();
      retireDue(now);
      return [...shares.values()]
        .filter((s) => s.creatorId === creatorId && s.expiresAt > now && (!sandboxId || s.sandboxId === sandboxId))
        .map((s) => ({ ...s }));
    },
    async touchShare(id, now) {
      const s = shares.get(id);
      if (s) {
        s.lastUsedAt = now;
        s.useCount++;
      }
    },
    async revokeShare(id, now) {
      retireDue(now, `h:${id}`);
      const s = live(shares, id);
      if (!s) return null;
      s.revokedAt ??= now;
      const copy = { ...s };
      retire(`h:${id}`, now);
      return copy;
    },
    async claimSlot(key, member, limit, expiresAt, now) {
      let members = slots.get(key);
      if (!members) slots.set(key, (members = new Map()));
      for (const [m, exp] of members) if (exp <= now) members.delete(m);
      if (!members.has(member) && members.size >= limit) return false;
      members.set(member, expiresAt);
      return true;
    },
    async releaseSlot(key, member) {
      const members = slots.get(key);
      members?.delete(member);
      if (members?.size === 0) slots.delete(key);
    },
    async listSlots(key, now) {
      const members = slots.get(key);
      return members ? [...members].filter(([, exp]) => exp > now).map(([m]) => m) : [];
    },
    async ping() {},
    async sweep(now) {
      return sweepNow(now);
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
