/**
 * Renewal of the access token with the refresh token, single-flight: however many requests
 * find the token stale at once, one POST /__gate/refresh goes out and all of them await it.
 */
import { isSessionOver } from '../../protocol/index.js';
import { readErrorCode } from './gate-error.js';
import { isTokenGrant, type StoredGrant, type TokenStore } from './token-store.js';

export type Clock = () => number;
export type FetchFn = (request: Request) => Promise<Response>;

/**
 * `renewed`: a fresh grant is stored. `dead`: the session is revoked/invalid, the tokens were
 * cleared. `unavailable`: network or gateway trouble; the old tokens are kept.
 */
export type RenewResult = { kind: 'renewed'; grant: StoredGrant } | { kind: 'dead'; code: string } | { kind: 'unavailable' };

export interface RenewerDeps {
  fetch: FetchFn;
  store: TokenStore;
  clock: Clock;
  /** Absolute URL of the refresh endpoint, e.g. `${self.location.origin}/__gate/refresh`. */
  refreshUrl: string;
  /**
   * Deadline of one refresh request, answer body included. Default 10 000 ms. Every request
   * that finds the token stale awaits the one renewal in flight (single-flight), so a refresh
   * the network never answers would hold every one of them, and with them the fetch events of
   * this worker: Chromium activates a waiting version (an app worker's update calling
   * `skipWaiting`, ARCHITECTURE.md flow 15) only once the active one has no event in flight.
   */
  timeoutMs?: number;
}

/** See RenewerDeps.timeoutMs. */
export const RENEW_TIMEOUT_MS = 10_000;

export interface Renewer {
  /**
   * Renews unless the stored access token already differs from `staleToken` (another request
   * renewed meanwhile) and is still fresh. Never rejects.
   */
  renew(staleToken?: string): Promise<RenewResult>;
}

/** Renew ahead of expiry when less than 30 s, or a third of the token's lifetime, is left. */
export function needsRenewal(grant: StoredGrant, now: number): boolean {
  const lifetime = Math.max(0, grant.expiresAt - grant.receivedAt);
  const margin = Math.min(30_000, lifetime / 3);
  return grant.expiresAt - now < margin;
}

/** `promise`, or a rejection once `signal` aborts (whether or not the work behind it listens). */
function bounded<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function createRenewer(deps: RenewerDeps): Renewer {
  let inflight: Promise<RenewResult> | null = null;

  async function attempt(): Promise<RenewResult> {
    const current = await deps.store.read();
    if (!current) return { kind: 'dead', code: 'missing_credential' };
    const signal = AbortSignal.timeout(deps.timeoutMs ?? RENEW_TIMEOUT_MS);
    let response: Response;
    try {
      // credentials: 'omit' keeps the worker's refresh family apart from the cookie's: the
      // gateway renews the cookie on its own, and mixing both would look like token reuse.
      response = await bounded(
        deps.fetch(
          new Request(deps.refreshUrl, {
            method: 'POST',
            credentials: 'omit',
            headers: { authorization: `Bearer ${current.refreshToken}` },
            signal,
          }),
        ),
        signal,
      );
    } catch {
      return { kind: 'unavailable' };
    }
    if (response.ok) {
      // The answer's body is read under the same deadline.
      const body: unknown = await bounded(response.json(), signal).catch(() => null);
      if (!isTokenGrant(body)) return { kind: 'unavailable' };
      // The context's cookie situation does not change with a renewal: keep the mark.
      const grant: StoredGrant = { ...body, receivedAt: deps.clock(), ...(current.cookieless ? { cookieless: true } : {}) };
      await deps.store.write(grant).catch(() => undefined);
      return { kind: 'renewed', grant };
    }
    const code = await bounded(readErrorCode(response), signal).catch(() => undefined);
    if (response.status === 401 || response.status === 403 || isSessionOver(code)) {
      await deps.store.clear();
      return { kind: 'dead', code: code ?? 'invalid_session' };
    }
    return { kind: 'unavailable' };
  }

  return {
    async renew(staleToken) {
      if (inflight) return inflight;
      // Another worker instance of this origin (an older or newer version, or the app's own
      // worker carrying our layer: ARCHITECTURE.md flow 15) may have rotated the refresh
      // credential meanwhile and written its successor to IndexedDB: read it there, never an
      // outdated memory copy, whose refresh credential would look reused past the grace window.
      deps.store.forget();
      if (staleToken !== undefined) {
        const current = await deps.store.read();
        if (current && current.accessToken !== staleToken && !needsRenewal(current, deps.clock())) {
          return { kind: 'renewed', grant: current };
        }
        if (inflight) return inflight;
      }
      inflight = attempt().finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };
}
