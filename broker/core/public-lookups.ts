/**
 * "Is this sandbox public?" for credential-less requests. Only Daytona knows, so made-up sandbox
 * ids must neither turn into unbounded Daytona API calls nor starve real public sandboxes:
 *  - known-public ids and not-public ids (private or unknown) are cached in SEPARATE bounded
 *    maps, so a flood of made-up ids can evict only other not-public entries, never a
 *    known-public one; concurrent lookups of one id share one call;
 *  - at most PUBLIC_LOOKUPS_PER_SECOND uncached lookups, and PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND
 *    per client address (every entry point passes it: proxy.ts, gate-paths.ts, upgrade.ts); past
 *    that, and when Daytona cannot be asked, the answer is 503 `daytona_unavailable` with
 *    Retry-After: retryable, never a misleading "this preview is private" 401, nothing cached.
 */
import { GateError } from '../../protocol/index.js';
import type { Clock, DaytonaPort, SandboxInfo } from './contracts.js';

/** Uncached Daytona lookups per second for credential-less requests, all clients together. */
export const PUBLIC_LOOKUPS_PER_SECOND = 20;
/** The same, per client address. */
export const PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND = 5;
/** How long a sandbox found public is served without asking Daytona again (turning it private takes effect within this). */
export const PUBLIC_CACHE_TTL_MS = 30_000;
/** How long "not public" (private, or no such sandbox: made-up ids) is remembered. */
export const NOT_PUBLIC_CACHE_TTL_MS = 10_000;
/** Entries per cache (known-public ids, not-public ids) and clients tracked; the oldest go first. */
const LOOKUP_CACHE_MAX = 10_000;

/** A map used as a bounded cache: at the bound, the oldest entry is dropped. */
function putBounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= LOOKUP_CACHE_MAX) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

export function createPublicLookups(daytona: DaytonaPort, clock: Clock) {
  const knownPublic = new Map<string, number>(); // id → until
  const notPublic = new Map<string, number>(); // id → until
  const inFlight = new Map<string, Promise<boolean>>();
  const clientWindows = new Map<string, { start: number; count: number }>();
  let windowStart = 0;
  let lookups = 0;

  const overBudget = () =>
    new GateError('daytona_unavailable', 'Too many public-sandbox lookups of unknown sandboxes right now; try again in a moment.', { 'retry-after': '1' });

  function takeBudget(clientAddress: string | undefined): void {
    const now = clock();
    if (clientAddress) {
      let w = clientWindows.get(clientAddress);
      if (!w || now - w.start >= 1000) {
        w = { start: now, count: 0 };
        putBounded(clientWindows, clientAddress, w);
      }
      if (w.count >= PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND) throw overBudget();
      w.count++;
    }
    if (now - windowStart >= 1000) {
      windowStart = now;
      lookups = 0;
    }
    if (lookups >= PUBLIC_LOOKUPS_PER_SECOND) throw overBudget();
    lookups++;
  }

  async function lookup(id: string): Promise<boolean> {
    let info: SandboxInfo | null;
    try {
      info = await daytona.getSandbox(id);
    } catch {
      throw new GateError('daytona_unavailable', 'Daytona could not be asked whether this sandbox is public; try again in a moment.', { 'retry-after': '2' });
    }
    const isPublic = info?.public === true;
    if (isPublic) {
      notPublic.delete(id);
      putBounded(knownPublic, id, clock() + PUBLIC_CACHE_TTL_MS);
    } else {
      knownPublic.delete(id);
      putBounded(notPublic, id, clock() + NOT_PUBLIC_CACHE_TTL_MS);
    }
    return isPublic;
  }

  /** True when Daytona says the sandbox is public; throws `daytona_unavailable` (503) when it cannot tell now. */
  async function sandboxIsPublic(id: string, clientAddress?: string): Promise<boolean> {
    const now = clock();
    const pub = knownPublic.get(id);
    if (pub !== undefined && pub > now) return true;
    const priv = notPublic.get(id);
    if (priv !== undefined && priv > now) return false;
    const pending = inFlight.get(id);
    if (pending) return pending;
    takeBudget(clientAddress);
    const p = lookup(id).finally(() => inFlight.delete(id));
    inFlight.set(id, p);
    return p;
  }

  return { sandboxIsPublic };
}
