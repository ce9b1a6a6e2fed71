/**
 * Where the Service Worker keeps its TokenGrant: IndexedDB (idb-keyval's default store) under
 * SW_TOKEN_KEY, so a worker the browser stopped and restarted still has its tokens, plus a
 * memory copy so most requests do not touch IndexedDB at all. The bootstrap page writes the
 * first grant through the same module (same origin, same storage partition).
 */
import { get, set, del } from 'idb-keyval';
import { SW_TOKEN_KEY, type TokenGrant } from '../../protocol/index.js';

/** A grant plus the moment it arrived, so the renewal margin can scale with the token's lifetime. */
export interface StoredGrant extends TokenGrant {
  receivedAt: number;
}

/** The subset of idb-keyval the store needs; tests pass a Map-backed fake. */
export interface KeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

export interface TokenStore {
  /** The current grant, from memory or IndexedDB; undefined when there is none (cookie path). */
  read(): Promise<StoredGrant | undefined>;
  write(grant: StoredGrant): Promise<void>;
  clear(): Promise<void>;
  /** Drops the memory copy so the next read goes to IndexedDB (another context wrote a grant). */
  forget(): void;
}

export const idbKeyValue: KeyValue = {
  get: (key) => get(key),
  set: (key, value) => set(key, value),
  del: (key) => del(key),
};

export function isStoredGrant(value: unknown): value is StoredGrant {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  return (
    typeof g.accessToken === 'string' &&
    typeof g.refreshToken === 'string' &&
    typeof g.expiresAt === 'number' &&
    typeof g.receivedAt === 'number'
  );
}

export function createTokenStore(kv: KeyValue = idbKeyValue): TokenStore {
  let memory: StoredGrant | undefined;
  let loaded = false;
  return {
    async read() {
      if (loaded) return memory;
      // IndexedDB can be refused (storage blocked, private mode): treat as "no tokens", so
      // requests take the cookie path instead of failing.
      const value = await kv.get(SW_TOKEN_KEY).catch(() => undefined);
      memory = isStoredGrant(value) ? value : undefined;
      loaded = true;
      return memory;
    },
    async write(grant) {
      memory = grant;
      loaded = true;
      await kv.set(SW_TOKEN_KEY, grant);
    },
    async clear() {
      memory = undefined;
      loaded = true;
      await kv.del(SW_TOKEN_KEY).catch(() => undefined);
    },
    forget() {
      memory = undefined;
      loaded = false;
    },
  };
}
