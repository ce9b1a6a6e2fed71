/**
 * A small, bounded memo of *successful* signature verifications, keyed by the exact token
 * string. Verifying an ES256 JWT costs a WebCrypto ECDSA verify (the largest single cost of a
 * proxied request before this cache); a browser or program sends the same access token on
 * every request for minutes, so the result is remembered briefly.
 *
 * What it does NOT skip: the caller still checks scope, revocation (`sid:` / `shr:`) and path
 * on every request, so ending a session cuts access at once. An entry lives until
 * min(token `exp`, now + ttl): a hit can never outlive the token, and a token past its `exp` is
 * a miss, so the full verification runs again and refuses it exactly as before (same code).
 * Failures are never cached (garbage tokens cannot fill the cache), and the size is capped
 * (oldest entry evicted first), so memory stays bounded whatever clients send.
 */
export interface VerifyCache<T> {
  /** The remembered claims of `token`, or undefined (unknown, or past its lifetime at `nowMs`). */
  get(token: string, nowMs: number): T | undefined;
  /** Remembers a token whose verification just succeeded; `expMs` is its `exp` in ms. */
  set(token: string, claims: T, expMs: number, nowMs: number): void;
  /** Forgets everything (e.g. after the signing keys changed). */
  clear(): void;
  readonly size: number;
}

export interface VerifyCacheOptions {
  /** Longest time a verification is reused, ms. Default 30 s. */
  ttlMs?: number;
  /** Most tokens remembered. Default 4096. */
  maxEntries?: number;
}

export function createVerifyCache<T>(opts: VerifyCacheOptions = {}): VerifyCache<T> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const maxEntries = opts.maxEntries ?? 4096;
  const entries = new Map<string, { claims: T; until: number }>();
  return {
    get(token, nowMs) {
      const e = entries.get(token);
      if (e === undefined) return undefined;
      if (nowMs >= e.until) {
        entries.delete(token);
        return undefined;
      }
      return e.claims;
    },
    set(token, claims, expMs, nowMs) {
      if (ttlMs <= 0 || maxEntries <= 0) return;
      const until = Math.min(expMs, nowMs + ttlMs);
      if (!(until > nowMs)) return;
      entries.delete(token);
      // Map keeps insertion order: the first key is the oldest entry.
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(token, { claims, until });
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
