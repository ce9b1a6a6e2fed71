/**
 * The gateway's only shared state, behind one interface so a Redis implementation can follow
 * the in-memory one (broker/core/store/memory.ts):
 *  - every method is async;
 *  - every record carries an absolute `expiresAt` (ms) and may vanish after it (Redis: PEXPIREAT);
 *  - "consume once" and "rotate" are single atomic operations (Redis: GETDEL, or a Lua script /
 *    WATCH-MULTI for `rotateRefresh`), so two instances can never both accept one code.
 * Secrets (launch codes, refresh credentials, WebSocket tickets) are stored by their SHA-256
 * hash only: a dump of the store opens nothing.
 */

export type CookieMode = 'lax' | 'partitioned';

/** A preview session: one user (or share link) on one sandbox port; revocable by its id. */
export interface PreviewSessionRecord {
  id: string;
  /** User id, or `share:<shareId>` for a session opened through a share link. */
  userId: string;
  kind: 'session' | 'share';
  sandboxId: string;
  port: number;
  /** The exact preview origin, also the `aud` of its access tokens. */
  origin: string;
  /** Share link this session came from. */
  shareId?: string;
  /** Path prefix the session is confined to (share links). */
  pathScope?: string;
  cookieMode: CookieMode;
  createdAt: number;
  /** Absolute end: nothing of this session works after it. */
  expiresAt: number;
  /**
   * Apps on several ports: every port of the sandbox this launch granted (`port` included,
   * sorted). Absent for a one-port launch. Each port's tokens stay scoped to its own origin.
   */
  ports?: number[];
}

/** One refresh credential of a session's rotation chain, keyed by the hash of its value. */
export interface RefreshRecord {
  hash: string;
  sessionId: string;
  generation: number;
  expiresAt: number;
  /** A chain bound to a sibling origin of a several-port grant (its cookie jar); absent = the session's origin. */
  origin?: string;
  /** The port of `origin`. */
  port?: number;
  /** Set when this credential was exchanged for a successor. */
  rotatedAt?: number;
  /**
   * The successor's value, AES-GCM-sealed with a key derived from THIS credential's value, so
   * only whoever presents this credential again (within the grace window) can open it.
   */
  successorSealed?: string;
  successorHash?: string;
}

export type RotateResult = { status: 'rotated' } | { status: 'already_rotated'; record: RefreshRecord } | { status: 'unknown' };

export interface LaunchCodeRecord {
  hash: string;
  sessionId: string;
  path: string;
  expiresAt: number;
  /** The host page origin the launch is bound to (login CSRF: broker/core/limits/launch-binding.ts). */
  hostOrigin?: string;
  /**
   * A sibling code (several-port grant): exchanged only on this sibling origin, only by a page
   * of `openerOrigin` (the session's main origin) that just exchanged the main code.
   */
  siblingOrigin?: string;
  openerOrigin?: string;
}

export interface WsTicketRecord {
  hash: string;
  sessionId: string;
  userId: string;
  kind: 'session' | 'share';
  sandboxId: string;
  port: number;
  pathScope?: string;
  shareId?: string;
  expiresAt: number;
  /** The session's granted ports (several-port grant): which sibling origins may open it. */
  ports?: number[];
}

export interface ShareRecord {
  id: string;
  creatorId: string;
  sandboxId: string;
  port: number;
  path?: string;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
  lastUsedAt?: number;
  useCount: number;
}

export interface Store {
  putSession(record: PreviewSessionRecord): Promise<void>;
  getSession(id: string): Promise<PreviewSessionRecord | null>;

  putRefresh(record: RefreshRecord): Promise<void>;
  getRefresh(hash: string): Promise<RefreshRecord | null>;
  /**
   * Atomically: if `oldHash` exists and is not rotated, mark it rotated (with the sealed
   * successor) and store `successor`; else report what is there. One winner per credential.
   */
  rotateRefresh(oldHash: string, successor: RefreshRecord, successorSealed: string, now: number): Promise<RotateResult>;

  /** Adds an id (`sid:...` or `shr:...`) to the revocation set until `expiresAt`. */
  revoke(key: string, expiresAt: number): Promise<void>;
  /** The cheap lookup made on every authenticated request. */
  isRevoked(key: string): Promise<boolean>;
  /**
   * `isRevoked`'s answer without waiting, when the store holds it in the process (the memory
   * store always; the Redis store when its local view of revocations is complete,
   * redis/revocations.ts); undefined when only `isRevoked` can tell. Optional: a store without it
   * is asked through `isRevoked` on every request (authenticate.ts `authenticateNow`).
   */
  isRevokedNow?(key: string): boolean | undefined;

  putLaunchCode(record: LaunchCodeRecord): Promise<void>;
  /** Atomically fetch and delete (Redis GETDEL); null when unknown, used or expired. */
  consumeLaunchCode(hash: string, now: number): Promise<LaunchCodeRecord | null>;

  putWsTicket(record: WsTicketRecord): Promise<void>;
  consumeWsTicket(hash: string, now: number): Promise<WsTicketRecord | null>;

  putShare(record: ShareRecord): Promise<void>;
  getShare(id: string): Promise<ShareRecord | null>;
  listShares(creatorId: string, sandboxId?: string): Promise<ShareRecord[]>;
  /** Records a use (lastUsedAt, useCount + 1). */
  touchShare(id: string, now: number): Promise<void>;
  /** Marks revoked; returns the record, or null when unknown. */
  revokeShare(id: string, now: number): Promise<ShareRecord | null>;

  /**
   * Slot sets: a named set of members, each live until its own `expiresAt`. They carry the caps
   * (live preview sessions / share links per user) and the indexes "every session of user U" /
   * "of sandbox S" used to end them all at once.
   *
   * Atomically: drop the members of `key` whose expiry passed; if fewer than `limit` remain (or
   * `member` is already in), add or refresh `member` until `expiresAt` and return true; else
   * return false and change nothing. `limit` = Infinity for a plain index.
   * Redis: one Lua script over a sorted set scored by expiry (ZREMRANGEBYSCORE, ZCARD, ZADD).
   */
  claimSlot(key: string, member: string, limit: number, expiresAt: number, now: number): Promise<boolean>;
  /** Removes `member` from `key` (a revoked session frees its slot at once). */
  releaseSlot(key: string, member: string): Promise<void>;
  /** The live members of `key`, in no particular order. */
  listSlots(key: string, now: number): Promise<string[]>;

  /**
   * Resolves when the store can serve now; rejects (GateError `store_unavailable` for Redis)
   * when it cannot. Cheap, for a readiness probe. Optional: a store without it is always ready.
   */
  ping?(): Promise<void>;

  /** Drops every expired record (the in-memory store also runs it on a timer). */
  sweep(now: number): Promise<number>;
  close(): Promise<void>;
}
