/**
 * The Store (broker/core/store/store.ts) over Redis, shared by every gateway instance.
 *
 * Layout under the prefix P (GATE_REDIS_PREFIX, default `preview-gate:`), every record with
 * PEXPIREAT = its `expiresAt`, every secret keyed by its SHA-256 (it arrives hashed):
 *   P s:{id}        preview session, JSON string
 *   P r:{hash}      refresh credential, hash {rec: JSON, rotatedAt?, successorSealed?, successorHash?}
 *   P c:{hash}      launch code, JSON string, taken with GETDEL (consume once)
 *   P t:{hash}      WebSocket ticket, JSON string, GETDEL
 *   P sh:{id}       share link, hash {rec: JSON, useCount, lastUsedAt?, revokedAt?}
 *   P shu:{user}    sorted set of a creator's share ids, score = share end
 *   P slot:{key}    slot set (claimSlot), score = member end
 *   P rev           revocations, sorted set, score = end; channel P rev carries each new one
 *   P sr:{id}       set of the refresh-credential hashes of session id (to retire them with it)
 *   P shs:{id}      set of the session ids opened through share link id (retired with the link)
 * A revoked session's records (`s:`, its `r:` chain) leave `retainRevokedMs` after the
 * revocation, like the memory store's (store/memory.ts): retireKeys (scripts.ts) only ever shortens.
 * Its `sid:` marker stays one access-token lifetime longer (`accessTtlMs`), or until its end. A
 * revoked share link's record and the sessions opened through it leave after the same delay.
 * Atomic steps are Lua scripts (scripts.ts). A Redis outage becomes GateError
 * `store_unavailable` (503 + Retry-After) at once: the port has no offline queue and a bounded
 * command timeout. `isRevoked` never leaves the process (revocations.ts).
 * Not for Redis Cluster: rotation touches two keys that may hash to different slots.
 */
import { GateError } from '../../../../protocol/index.js';
import type { Clock, Logger } from '../../contracts.js';
import type { LaunchCodeRecord, PreviewSessionRecord, RefreshRecord, RotateResult, ShareRecord, Store, WsTicketRecord } from '../store.js';
import { RedisUnavailableError, type RedisPort } from './port.js';
import * as lua from './scripts.js';
import { createRevocationView, feedRevocationView, type RevocationView } from './revocations.js';
import { DEFAULT_RETAIN_REVOKED_MS } from '../memory.js';

export interface RedisStoreOptions {
  port: RedisPort;
  /** Key prefix; default `preview-gate:`. */
  prefix?: string;
  clock?: Clock;
  logger?: Logger;
  /** Most revocations kept in the local view (default 100 000). */
  maxLocalRevocations?: number;
  /** Retry-After (seconds) of the 503 while Redis is unreachable. Default 2. */
  retryAfterSeconds?: number;
  /** How long a revoked session's (or share link's) records are kept, ms; as store/memory.ts. Default 60000. */
  retainRevokedMs?: number;
  /** The longest an access token lives, ms (the gateway's access TTL): bounds a `sid:` marker as in store/memory.ts. Default: the session's end. */
  accessTtlMs?: number;
}

export interface RedisStore extends Store {
  /** The local revocation view (for tests and /readyz-style probes). */
  readonly revocations: RevocationView;
}

/** The error every caller sees while Redis cannot be asked. */
export function storeUnavailable(retryAfterSeconds = 2): GateError {
  return new GateError('store_unavailable', 'The session store is unreachable; try again in a moment.', { 'retry-after': String(retryAfterSeconds) });
}

function fields(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const a = Array.isArray(reply) ? (reply as string[]) : [];
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]!] = a[i + 1]!;
  return out;
}

function refreshOf(h: Record<string, string>): RefreshRecord | null {
  if (!h.rec) return null;
  const r = JSON.parse(h.rec) as RefreshRecord;
  if (h.rotatedAt !== undefined) r.rotatedAt = Number(h.rotatedAt);
  if (h.successorSealed !== undefined) r.successorSealed = h.successorSealed;
  if (h.successorHash !== undefined) r.successorHash = h.successorHash;
  return r;
}

function shareOf(h: Record<string, string>): ShareRecord | null {
  if (!h.rec) return null;
  const s = JSON.parse(h.rec) as ShareRecord;
  s.useCount = Number(h.useCount ?? 0);
  if (h.lastUsedAt !== undefined) s.lastUsedAt = Number(h.lastUsedAt);
  if (h.revokedAt !== undefined) s.revokedAt = Number(h.revokedAt);
  return s;
}

/**
 * Connects the revocation view (subscribe + first full read) and returns the store. Rejects
 * with store_unavailable when Redis cannot be reached now.
 *
 * @example
 * const store = await createRedisStore({ port: await connectRedis({ url: 'redis://127.0.0.1:6379' }) });
 */
export async function createRedisStore(o: RedisStoreOptions): Promise<RedisStore> {
  const P = o.prefix ?? 'preview-gate:';
  const clock = o.clock ?? Date.now;
  const port = o.port;
  const down = () => storeUnavailable(o.retryAfterSeconds);

  const run = async (args: readonly string[]): Promise<unknown> => {
    try {
      return await port.command(args);
    } catch (err) {
      if (err instanceof RedisUnavailableError) throw down();
      throw err;
    }
  };
  const script = async (s: typeof lua.hashPut, keys: string[], args: (string | number)[]): Promise<unknown> => {
    try {
      return await s(port, keys, args);
    } catch (err) {
      if (err instanceof RedisUnavailableError) throw down();
      throw err;
    }
  };

  const revKey = `${P}rev`;
  const view = createRevocationView({ clock, setKey: revKey, run, ...(o.maxLocalRevocations ? { maxEntries: o.maxLocalRevocations } : {}) });
  const stopFeed = await feedRevocationView(view, port, revKey, (err) => {
    o.logger?.warn('revocations_sync_failed', { error: err instanceof Error ? err.name : 'unknown' });
  }).catch((err) => {
    throw err instanceof RedisUnavailableError ? down() : err;
  });

  // Ended revocations leave the local view once a minute (Redis drops them from the set itself).
  const pruner = setInterval(() => view.prune(), 60_000);
  (pruner as unknown as { unref?: () => void }).unref?.();

  const putJson = (key: string, value: { expiresAt: number }) =>
    run(['SET', key, JSON.stringify(value), 'PXAT', String(Math.max(1, Math.floor(value.expiresAt)))]);
  const getJson = async <T>(key: string): Promise<T | null> => {
    const v = (await run(['GET', key])) as string | null;
    return v === null ? null : (JSON.parse(v) as T);
  };
  const takeJson = async <T extends { expiresAt: number }>(key: string, now: number): Promise<T | null> => {
    const v = (await run(['GETDEL', key])) as string | null;
    if (v === null) return null;
    const r = JSON.parse(v) as T;
    return r.expiresAt > now ? r : null;
  };
  const liveOrNull = <T extends { expiresAt: number }>(r: T | null): T | null => (r && r.expiresAt > clock() ? r : null);
  const ms = (n: number) => String(Math.max(1, Math.floor(n)));
  // At least a second: revoking reads the session once more to free its slots (credentials.ts#revokeSession).
  const retainRevokedMs = Math.max(1000, o.retainRevokedMs ?? DEFAULT_RETAIN_REVOKED_MS);
  /** Adds `member` to the index set `key`, which lives as long as its longest member. */
  const index = (key: string, member: string, until: number) => script(lua.indexAdd, [key], [member, ms(until), String(clock())]);
  /** Shortens (never lengthens) the life of a session's records (its refresh chain included) to `at`. */
  const retireSession = async (id: string, at: number) => {
    const hashes = (await run(['SMEMBERS', `${P}sr:${id}`])) as string[];
    await script(lua.retireKeys, [`${P}s:${id}`, `${P}sr:${id}`, ...hashes.map((h) => `${P}r:${h}`)], [ms(at), String(clock())]);
  };
  /** The same for a share link's record and every session opened through it. */
  const retireShare = async (id: string, at: number) => {
    const sessions = (await run(['SMEMBERS', `${P}shs:${id}`])) as string[];
    for (const sid of sessions) await retireSession(sid, at);
    await script(lua.retireKeys, [`${P}sh:${id}`, `${P}shs:${id}`], [ms(at), String(clock())]);
  };

  const store: RedisStore = {
    revocations: view,
    async putSession(r) {
      await putJson(`${P}s:${r.id}`, r);
      if (r.shareId) await index(`${P}shs:${r.shareId}`, r.id, r.expiresAt);
    },
    async getSession(id) {
      return liveOrNull(await getJson<PreviewSessionRecord>(`${P}s:${id}`));
    },
    async putRefresh(r) {
      const { rotatedAt, successorSealed, successorHash, ...rec } = r;
      const extra: string[] = [];
      if (rotatedAt !== undefined) extra.push('rotatedAt', String(rotatedAt));
      if (successorSealed !== undefined) extra.push('successorSealed', successorSealed);
      if (successorHash !== undefined) extra.push('successorHash', successorHash);
      await script(lua.hashPut, [`${P}r:${r.hash}`], [ms(r.expiresAt), 'rec', JSON.stringify(rec), ...extra]);
      await index(`${P}sr:${r.sessionId}`, r.hash, r.expiresAt);
    },
    async getRefresh(hash) {
      return liveOrNull(refreshOf(fields(await run(['HGETALL', `${P}r:${hash}`]))));
    },
    async rotateRefresh(oldHash, successor, successorSealed, now): Promise<RotateResult> {
      const { rotatedAt: _r, successorSealed: _s, successorHash: _h, ...rec } = successor;
      const reply = (await script(
        lua.rotateRefresh,
        [`${P}r:${oldHash}`, `${P}r:${successor.hash}`],
        [String(now), successorSealed, successor.hash, JSON.stringify(rec), ms(successor.expiresAt)],
      )) as string[];
      if (reply[0] === 'rotated') {
        await index(`${P}sr:${successor.sessionId}`, successor.hash, successor.expiresAt);
        return { status: 'rotated' };
      }
      if (reply[0] === 'already') {
        const record = refreshOf(fields(reply.slice(1)));
        if (record) return { status: 'already_rotated', record };
      }
      return { status: 'unknown' };
    },
    async revoke(key, expiresAt) {
      const now = clock();
      // A `sid:` marker outlives the session's records by one access-token lifetime (as store/memory.ts).
      const until = key.startsWith('sid:') && o.accessTtlMs !== undefined ? Math.min(expiresAt, now + retainRevokedMs + o.accessTtlMs + 1000) : expiresAt;
      view.note(key, until);
      await script(lua.revoke, [revKey], [key, ms(until), String(now), revKey]);
      if (key.startsWith('sid:')) await retireSession(key.slice(4), now + retainRevokedMs);
      else if (key.startsWith('shr:')) await retireShare(key.slice(4), now + retainRevokedMs);
    },
    isRevokedNow(key) {
      return view.lookup(key);
    },
    async isRevoked(key) {
      const local = view.lookup(key);
      if (local !== undefined) return local;
      // Only when the fleet holds more revocations than the local view may keep.
      const score = (await run(['ZSCORE', revKey, key])) as string | null;
      return score !== null && Number(score) > clock();
    },
    async putLaunchCode(r) {
      await putJson(`${P}c:${r.hash}`, r);
    },
    async consumeLaunchCode(hash, now) {
      return takeJson<LaunchCodeRecord>(`${P}c:${hash}`, now);
    },
    async putWsTicket(r) {
      await putJson(`${P}t:${r.hash}`, r);
    },
    async consumeWsTicket(hash, now) {
      return takeJson<WsTicketRecord>(`${P}t:${hash}`, now);
    },
    async putShare(r) {
      const { useCount, lastUsedAt, revokedAt, ...rec } = r;
      const extra: string[] = ['useCount', String(useCount)];
      if (lastUsedAt !== undefined) extra.push('lastUsedAt', String(lastUsedAt));
      if (revokedAt !== undefined) extra.push('revokedAt', String(revokedAt));
      await script(lua.putShare, [`${P}sh:${r.id}`, `${P}shu:${r.creatorId}`], [ms(r.expiresAt), r.id, 'rec', JSON.stringify(rec), ...extra]);
    },
    async getShare(id) {
      return liveOrNull(shareOf(fields(await run(['HGETALL', `${P}sh:${id}`]))));
    },
    async listShares(creatorId, sandboxId) {
      const now = clock();
      const ids = (await run(['ZRANGE', `${P}shu:${creatorId}`, `(${now}`, '+inf', 'BYSCORE'])) as string[];
      const all = await Promise.all(ids.map(async (id) => shareOf(fields(await run(['HGETALL', `${P}sh:${id}`])))));
      return all.filter((s): s is ShareRecord => !!s && s.creatorId === creatorId && s.expiresAt > now && (!sandboxId || s.sandboxId === sandboxId));
    },
    async touchShare(id, now) {
      await script(lua.touchShare, [`${P}sh:${id}`], [String(now)]);
    },
    async revokeShare(id, now) {
      const reply = await script(lua.revokeShare, [`${P}sh:${id}`], [String(now)]);
      return reply ? liveOrNull(shareOf(fields(reply))) : null;
    },
    async claimSlot(key, member, limit, expiresAt, now) {
      const l = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1;
      return (await script(lua.claimSlot, [`${P}slot:${key}`], [member, l, ms(expiresAt), String(now)])) === 1;
    },
    async releaseSlot(key, member) {
      await run(['ZREM', `${P}slot:${key}`, member]);
    },
    async listSlots(key, now) {
      return (await run(['ZRANGE', `${P}slot:${key}`, `(${now}`, '+inf', 'BYSCORE'])) as string[];
    },
    async ping() {
      if (!port.ready) throw down();
      await run(['PING']);
    },
    async sweep(now) {
      // Redis expires records itself; only ended revocations leave the set and the local view.
      const n = (await run(['ZREMRANGEBYSCORE', revKey, '-inf', String(now)])) as number;
      view.prune();
      return n;
    },
    async close() {
      clearInterval(pruner);
      stopFeed();
    },
  };
  return store;
}
