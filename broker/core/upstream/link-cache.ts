/**
 * Cache of Daytona preview links (`{url, token}`) per sandbox port: signed preview URLs in the
 * gateway (ARCHITECTURE.md flow 13), standard links for ports that cannot sign.
 *
 * Why: a link is an API round trip (two without the Sandbox object cached); calling it per
 * request is what makes Daytona's TypeScript proxy sample slow. A signed link lives until its
 * expiry (renewed at two thirds of it, see `renewAt`) and survives restarts; a standard token
 * changes only when the sandbox restarts. Either way a refused link (Daytona's 307 to its
 * identity provider, or production's 401) is detected on use and the entry refreshed then.
 *
 * - bounded: least-recently-used eviction past `maxEntries` (a Map keeps insertion order);
 * - TTL: an entry older than `ttlMs` is re-fetched on next use;
 * - single-flight: concurrent misses for one key share one SDK call;
 * - degrades: when the API is down (GateError 'daytona_unavailable'), an expired entry keeps
 *   serving ("a failing Daytona API degrades, cached tokens keep serving", ARCHITECTURE.md flow 13) and the API
 *   is asked again only after `errorBackoffMs`, so a dead API is not hammered once per request.
 */
import { fixedLabels, METRIC } from '../metrics.js';
import { GateError, type PreviewTarget } from '../../../protocol/index.js';
import type { Clock, Logger, Metrics, PreviewLink } from '../contracts.js';

export interface LinkCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** How long a link is used before it is re-fetched. Default 10 minutes. */
  ttlMs?: number;
  /** After a failed refresh served stale, how long before the API is asked again. Default 5 s. */
  errorBackoffMs?: number;
  /**
   * After a rejection-driven refresh, the next one for the same port waits this long: the link
   * is as fresh as Daytona can make it, and an untrusted app that forges Daytona's rejection must
   * not turn every request into an API call. Default 1 s.
   */
  minRefreshIntervalMs?: number;
}

export interface LinkCache {
  /** The link for `target`: cached, shared with a concurrent fetch, or fetched. */
  get(target: PreviewTarget): Promise<PreviewLink>;
  /** The cached link for `target` when it is fresh (counted as a hit, as `get` would), without a promise; else undefined. */
  peek(target: PreviewTarget): PreviewLink | undefined;
  /**
   * Forgets the link for `target` if it still holds `rejectedToken` (or unconditionally when it
   * is omitted), so N requests that saw the same rejection trigger one refresh, not N.
   */
  invalidate(target: PreviewTarget, rejectedToken?: string): void;
  /**
   * After Daytona rejected `rejectedToken` (default: the cached one): a fresh link, shared with
   * concurrent callers; the already-refreshed link when another caller got there first; or null
   * when the last refresh of that port is younger than `minRefreshIntervalMs`.
   * Never serves stale: a link Daytona just rejected is useless.
   */
  refresh(target: PreviewTarget, rejectedToken?: string): Promise<PreviewLink | null>;
  /** Forgets every port of a sandbox (after a restart its standard token changed). */
  invalidateSandbox(sandboxId: string): void;
  readonly size: number;
}

interface Entry {
  link: PreviewLink;
  expiresAt: number;
  /** When a rejection last forced a reload of this port (-Infinity: never). */
  refreshedAt: number;
}

export const LINK_CACHE_METRIC = METRIC.linkCache;

export function createLinkCache(deps: {
  load: (target: PreviewTarget) => Promise<PreviewLink>;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  options?: LinkCacheOptions;
}): LinkCache {
  const maxEntries = deps.options?.maxEntries ?? 1000;
  const ttlMs = deps.options?.ttlMs ?? 10 * 60_000;
  const errorBackoffMs = deps.options?.errorBackoffMs ?? 5_000;
  const minRefreshIntervalMs = deps.options?.minRefreshIntervalMs ?? 1_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('linkCache.maxEntries must be a positive integer');
  if (!(ttlMs > 0)) throw new TypeError('linkCache.ttlMs must be a positive number of milliseconds');
  const clock = deps.clock ?? Date.now;
  const entries = new Map<string, Entry>();
  const inflight = new Map<string, Promise<PreviewLink>>();
  const keyOf = (t: PreviewTarget) => `${t.port}-${t.sandboxId}`;
  // The three label sets made once (metrics.ts fixedLabels): a hit is counted on every proxied request.
  const resultLabels = { hit: fixedLabels({ result: 'hit' }), miss: fixedLabels({ result: 'miss' }), stale: fixedLabels({ result: 'stale' }) };
  const count = (result: 'hit' | 'miss' | 'stale') => deps.metrics?.inc(LINK_CACHE_METRIC, resultLabels[result]);

  /**
   * When a freshly loaded link is re-fetched: after `ttlMs`, and for a signed link (which stops
   * working at `expiresAt`) once two thirds of its life are gone, so requests never race its
   * expiry and a renewal failing while the API is down still has a third of the life to serve.
   */
  function renewAt(link: PreviewLink): number {
    const now = clock();
    const byTtl = now + ttlMs;
    if (link.expiresAt === undefined) return byTtl;
    return Math.min(byTtl, now + Math.max(0, ((link.expiresAt - now) * 2) / 3));
  }

  /** The key re-inserted last: a hit on it is already at the end (no delete and set per request, which made V8 rebuild the Map's table every few hits). */
  let newest: string | undefined;
  function remember(key: string, entry: Entry): void {
    newest = key;
    entries.delete(key); // re-insert at the end: most recently used
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  }

  function load(key: string, target: PreviewTarget, refreshedAt = -Infinity): Promise<PreviewLink> {
    const pending = inflight.get(key);
    if (pending) return pending;
    const started = deps
      .load(target)
      .then((link) => {
        remember(key, { link, expiresAt: renewAt(link), refreshedAt });
        return link;
      })
      .catch((err: unknown) => {
        const stale = entries.get(key);
        // A signed link past its own expiry opens nothing at Daytona: never serve it stale.
        const usable = stale && (stale.link.expiresAt === undefined || stale.link.expiresAt > clock());
        if (stale && usable && err instanceof GateError && err.code === 'daytona_unavailable') {
          count('stale');
          deps.logger?.warn('upstream.link_cache.serve_stale', { sandboxId: target.sandboxId, port: target.port });
          remember(key, { ...stale, expiresAt: Math.min(clock() + errorBackoffMs, stale.link.expiresAt ?? Infinity) });
          return stale.link;
        }
        if (!(err instanceof GateError && err.code === 'daytona_unavailable')) entries.delete(key);
        throw err;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  }

  /** The fresh cached entry of `key`, counted as a hit (and made the most recent), or undefined. */
  const fresh = (key: string): PreviewLink | undefined => {
    const entry = entries.get(key);
    if (entry === undefined || entry.expiresAt <= clock()) return undefined;
    count('hit');
    if (key !== newest) remember(key, entry);
    return entry.link;
  };

  return {
    get(target) {
      const key = keyOf(target);
      const link = fresh(key);
      if (link !== undefined) return Promise.resolve(link);
      count('miss');
      return load(key, target, entries.get(key)?.refreshedAt);
    },
    peek(target) {
      return fresh(keyOf(target));
    },
    invalidate(target, rejectedToken) {
      const key = keyOf(target);
      const entry = entries.get(key);
      if (entry && (rejectedToken === undefined || entry.link.token === rejectedToken)) entries.delete(key);
    },
    refresh(target, rejectedToken) {
      const key = keyOf(target);
      const entry = entries.get(key);
      const now = clock();
      if (entry) {
        if (rejectedToken !== undefined && entry.link.token !== rejectedToken) return Promise.resolve(entry.link);
        if (now - entry.refreshedAt < minRefreshIntervalMs) return Promise.resolve(null);
        entries.delete(key);
      }
      count('miss');
      return load(key, target, now);
    },
    invalidateSandbox(sandboxId) {
      for (const key of [...entries.keys()]) {
        if (key.slice(key.indexOf('-') + 1) === sandboxId) entries.delete(key);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
