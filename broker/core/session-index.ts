/**
 * Names of the Store's slot sets that index live preview sessions (store.ts, "Slot sets"), so
 * "end every preview session of user U / of sandbox S" needs no scan. Shared by the broker API
 * (bulk end, broker/core/broker-api.ts) and whatever else claims these slots (caps).
 */
import type { Store } from './store/store.js';

export const userSessionsKey = (userId: string): string => `sessions:user:${userId}`;
export const sandboxSessionsKey = (sandboxId: string): string => `sessions:sandbox:${sandboxId}`;

/** Adds a new preview session to both indexes (until it ends). */
export async function indexSession(store: Store, s: { id: string; userId: string; sandboxId: string; expiresAt: number }, now: number): Promise<void> {
  await store.claimSlot(userSessionsKey(s.userId), s.id, Number.POSITIVE_INFINITY, s.expiresAt, now);
  await store.claimSlot(sandboxSessionsKey(s.sandboxId), s.id, Number.POSITIVE_INFINITY, s.expiresAt, now);
}
