/**
 * The embedded default Store: Maps in one process, swept for expired records every
 * `sweepIntervalMs`. Every method does its read-check-write without an `await` in between,
 * which is what makes "consume once" and "rotate" atomic on a single JS thread.
 */
import type { Clock } from '../contracts.js';
import type { LaunchCodeRecord, PreviewSessionRecord, RefreshRecord, RotateResult, ShareRecord, Store, WsTicketRecord } from './store.js';

export interface MemoryStoreOptions {
  /** Default `Date.now`. */
  clock?: Clock;
  /** Default 30000; 0 disables the timer (call `sweep` yourself). */
  sweepIntervalMs?: number;
}

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
  const codes = new Map<string, LaunchCodeRecord>();
  const tickets = new Map<string, WsTicketRecord>();
  const shares = new Map<string, ShareRecord>();
  /** Slot sets: key → (member → expiresAt). */
  const slots = new Map<string, Map<string, number>>();
  const all: Map<string, { expiresAt: number }>[] = [sessions, refresh, codes, tickets, shares];

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
    let n = 0;
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
    },
    async getSession(id) {
      const r = live(sessions, id);
      return r ? { ...r } : null;
    },
    async putRefresh(r) {
      refresh.set(r.hash, { ...r });
    },
    async getRefresh(hash) {
      const r = live(refresh, hash);
      return r ? { ...r } : null;
    },
    async rotateRefresh(oldHash, successor, successorSealed, now): Promise<RotateResult> {
      const old = live(refresh, oldHash);
      if (!old) return { status: 'unknown' };
      if (old.rotatedAt !== undefined) return { status: 'already_rotated', record: { ...old } };
      old.rotatedAt = now;
      old.successorSealed = successorSealed;
      old.successorHash = successor.hash;
      refresh.set(successor.hash, { ...successor });
      return { status: 'rotated' };
    },
    async revoke(key, expiresAt) {
      revoked.set(key, Math.max(expiresAt, revoked.get(key) ?? 0));
    },
    async isRevoked(key) {
      const exp = revoked.get(key);
      return exp !== undefined && exp > clock();
    },
    async putLaunchCode(r) {
      codes.set(r.hash, { ...r });
    },
    async consumeLaunchCode(hash, now) {
      return consume(codes, hash, now);
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
      const r = live(shares, id);
      return r ? { ...r } : null;
    },
    async listShares(creatorId, sandboxId) {
      const now = clock();
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
      const s = live(shares, id);
      if (!s) return null;
      s.revokedAt ??= now;
      return { ...s };
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
