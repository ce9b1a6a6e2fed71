/**
 * GATE_POLICY_URL: authorisation by the host app without writing gateway code. Before minting a
 * launch URL or a share link, the gateway asks the host app's endpoint
 *
 *   POST {GATE_POLICY_URL}   Content-Type: application/json
 *                            Authorization: Bearer {GATE_POLICY_TOKEN}   (when set)
 *   {"userId":"ana","sandboxId":"sbx-1","port":3000,"labels":{...},"claims":{...}}
 *
 * and expects `200 {"allow": true|false, "ttlSeconds"?: 0..300}`. The answer is cached per
 * (user, sandbox, port) for `ttlSeconds` (default GATE_POLICY_CACHE_SECONDS, 10). Anything else
 * (timeout after 3 s, network error, other status, not JSON, `allow` not a boolean) refuses
 * with the coded 503 `policy_unavailable` (fail closed) and is not cached. docs/interface.md
 * has the contract and an example endpoint.
 */
import { GateError } from '../../../protocol/index.js';
import type { Clock, Logger } from '../contracts.js';
import type { PreviewPolicy } from './policy.js';

export interface HttpPolicyOptions {
  url: string;
  /** Sent as `Authorization: Bearer` so the endpoint knows the caller is the gateway. */
  token?: string | null;
  /** Default cache lifetime of an answer, seconds (0 = no cache). */
  cacheSeconds: number;
  clock: Clock;
  logger: Logger;
  /** Default: the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Default 3000. */
  timeoutMs?: number;
}

const MAX_CACHED = 10_000;
const MAX_TTL_SECONDS = 300;

/**
 * @example
 * const policy = createHttpPolicy({ url: 'https://ide.example.com/internal/preview-policy', cacheSeconds: 10, clock: Date.now, logger });
 */
export function createHttpPolicy(o: HttpPolicyOptions): PreviewPolicy {
  const cache = new Map<string, { allow: boolean; until: number }>();
  const doFetch = o.fetch ?? ((r: Request) => fetch(r));
  const unavailable = (why: string, log: Logger = o.logger): never => {
    log.warn('policy_unavailable', { url: o.url, why });
    throw new GateError(
      'policy_unavailable',
      "The host application's access policy (GATE_POLICY_URL) did not answer usably, so access is refused; try again shortly.",
      { 'retry-after': '5' },
    );
  };
  return async (user, sandbox, port, context) => {
    const log = context?.log ?? o.logger;
    const key = `${user.id}\n${sandbox.id}\n${port}`;
    const now = o.clock();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.allow;
    const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json' });
    if (o.token) headers.set('authorization', `Bearer ${o.token}`);
    let res: Response;
    try {
      res = await doFetch(
        new Request(o.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ userId: user.id, sandboxId: sandbox.id, port, labels: sandbox.labels, claims: user.claims }),
          redirect: 'manual',
          signal: AbortSignal.timeout(o.timeoutMs ?? 3000),
        }),
      );
    } catch (err) {
      return unavailable(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'unreachable', log);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      return unavailable(`HTTP ${res.status}`, log);
    }
    let body: { allow?: unknown; ttlSeconds?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      return unavailable('not JSON', log);
    }
    if (typeof body?.allow !== 'boolean') return unavailable('no boolean "allow"', log);
    const ttl =
      typeof body.ttlSeconds === 'number' && Number.isFinite(body.ttlSeconds) ? Math.min(Math.max(0, body.ttlSeconds), MAX_TTL_SECONDS) : o.cacheSeconds;
    if (ttl > 0) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, { allow: body.allow, until: now + ttl * 1000 });
    }
    return body.allow;
  };
}
