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
  /**
   * True when the bootstrap found that the exchange's cookie does not come back in this
   * context (the browser refuses every cookie here): the worker is then the only credential
   * path, and also carries EventSource and WebSocket tickets (ARCHITECTURE.md flow 12).
   */
  cookieless?: boolean;
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

/** The shape of a `/__gate/session` or `/__gate/refresh` answer. */
export function isTokenGrant(value: unknown): value is TokenGrant {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  return typeof g.accessToken === 'string' && typeof g.refreshToken === 'string' && typeof g.expiresAt === 'number';
}

export function isStoredGrant(value: unknown): value is StoredGrant {
  return isTokenGrant(value) && typeof (value as { receivedAt?: unknown }).receivedAt === 'number';
}

/**
 * IndexedDB can be refused outright (an error) or, in some contexts (an insecure or
 * storage-blocked frame), never answer at all: every operation gets a deadline, so a request
 * or a launch never hangs on storage.
 */
function deadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('IndexedDB did not answer')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** `timeoutMs`: deadline of each IndexedDB operation. Default 2000. */
export function createTokenStore(kv: KeyValue = idbKeyValue, timeoutMs = 2_000): TokenStore {
  let memory: StoredGrant | undefined;
  return {
    async read() {
      // With no grant in memory, look again: the bootstrap may have just written one (a new
      // launch while this worker was running). A grant in memory is dropped by forget().
      if (memory) return memory;
      // Storage refused or silent: "no tokens", so requests take the cookie path instead of failing.
      const value = await deadline(kv.get(SW_TOKEN_KEY), timeoutMs).catch(() => undefined);
      memory = isStoredGrant(value) ? value : undefined;
      return memory;
    },
    async write(grant) {
      memory = grant;
      await deadline(kv.set(SW_TOKEN_KEY, grant), timeoutMs);
    },
    async clear() {
      memory = undefined;
      await deadline(kv.del(SW_TOKEN_KEY), timeoutMs).catch(() => undefined);
    },
    forget() {
      memory = undefined;
    },
  };
}
