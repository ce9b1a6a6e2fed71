/**
 * The local view of revocations that makes `isRevoked` free of network calls on the hot path
 * (every authenticated request asks it). Redis keeps the truth in one sorted set (member
 * `sid:…`/`shr:…`, score = the revocation's end in ms); every `revoke` also PUBLISHes
 * `key|expiresAt` on a channel that every instance subscribes to, so a revocation made on one
 * instance reaches the others within pub/sub latency (milliseconds).
 *
 * Catch-up: pub/sub delivers nothing while a connection is down. After every (re)connection the
 * view re-reads the whole live set (it is small: only revocations not yet past their end) and,
 * in the same pass, writes back its own entries with `ZADD GT`, so revocations survive even a
 * Redis that came back empty. Subscribing happens before the read, so nothing falls in between.
 *
 * Bounded: at most `maxEntries` (default 100 000) revocations are kept. Past that the view
 * stops pretending to be complete (`complete = false`) and an unknown key is asked of Redis
 * (`ZSCORE`): correctness over speed, and memory stays bounded whatever the fleet does.
 */
import type { Clock } from '../../contracts.js';
import type { RedisPort } from './port.js';

export interface RevocationView {
  /** true / false from the local view; undefined when the view is incomplete (ask Redis). */
  lookup(key: string): boolean | undefined;
  /** Records a revocation locally (own revokes, pub/sub messages). */
  note(key: string, expiresAt: number): void;
  /** Re-reads the live set from Redis after writing back the local entries. */
  sync(): Promise<void>;
  /** Drops entries past their end; returns how many. */
  prune(): number;
  readonly size: number;
  /** Time (ms) of the last successful sync. */
  readonly syncedAt: number;
}

export interface RevocationViewOptions {
  clock: Clock;
  /** Sorted-set key and pub/sub channel (prefixed by the store). */
  setKey: string;
  maxEntries?: number;
  run: (args: readonly string[]) => Promise<unknown>;
}

const PAGE = 1000;

export function createRevocationView(o: RevocationViewOptions): RevocationView {
  const max = o.maxEntries ?? 100_000;
  const entries = new Map<string, number>();
  let complete = true;
  let syncedAt = 0;
  let syncing: Promise<void> | null = null;

  const put = (key: string, exp: number) => {
    const cur = entries.get(key);
    if (cur !== undefined) {
      if (exp > cur) entries.set(key, exp);
      return;
    }
    if (entries.size >= max) prune();
    if (entries.size >= max) {
      complete = false;
      return;
    }
    entries.set(key, exp);
  };

  function prune(): number {
    const now = o.clock();
    let n = 0;
    for (const [k, exp] of entries) {
      if (exp <= now) {
        entries.delete(k);
        n++;
      }
    }
    return n;
  }

  async function syncOnce(): Promise<void> {
    const now = o.clock();
    // Write back what this instance knows (an emptied Redis gets its revocations again).
    const mine = [...entries].filter(([, exp]) => exp > now);
    for (let i = 0; i < mine.length; i += PAGE) {
      const args = ['ZADD', o.setKey, 'GT'];
      for (const [k, exp] of mine.slice(i, i + PAGE)) args.push(String(exp), k);
      await o.run(args);
    }
    let offset = 0;
    let total = 0;
    const seen = new Map<string, number>();
    for (;;) {
      const page = (await o.run(['ZRANGE', o.setKey, `(${now}`, '+inf', 'BYSCORE', 'LIMIT', String(offset), String(PAGE), 'WITHSCORES'])) as string[];
      for (let i = 0; i + 1 < page.length; i += 2) {
        total++;
        if (seen.size < max) seen.set(page[i]!, Number(page[i + 1]));
      }
      if (page.length < PAGE * 2) break;
      offset += PAGE;
    }
    // Entries noted while reading (messages, own revokes) are kept: merge, never forget.
    for (const [k, exp] of seen) put(k, exp);
    complete = total <= max && entries.size < max;
    syncedAt = o.clock();
  }

  return {
    lookup(key) {
      const exp = entries.get(key);
      if (exp !== undefined) {
        if (exp > o.clock()) return true;
        entries.delete(key);
      }
      return complete ? false : undefined;
    },
    note: put,
    sync() {
      syncing ??= syncOnce().finally(() => {
        syncing = null;
      });
      return syncing;
    },
    prune,
    get size() {
      return entries.size;
    },
    get syncedAt() {
      return syncedAt;
    },
  };
}

/** The pub/sub message of one revocation. */
export function revocationMessage(key: string, expiresAt: number): string {
  return `${key}|${expiresAt}`;
}

export function parseRevocationMessage(message: string): { key: string; expiresAt: number } | null {
  const i = message.lastIndexOf('|');
  if (i <= 0) return null;
  const expiresAt = Number(message.slice(i + 1));
  return Number.isFinite(expiresAt) ? { key: message.slice(0, i), expiresAt } : null;
}

/** Wires the view to the port: subscribe first, then sync now and after every reconnect. */
export async function feedRevocationView(view: RevocationView, port: RedisPort, channel: string, onError: (err: unknown) => void): Promise<() => void> {
  await port.subscribe([channel], (_ch, message) => {
    const m = parseRevocationMessage(message);
    if (m) view.note(m.key, m.expiresAt);
  });
  await view.sync();
  return port.onReady(() => {
    view.sync().catch(onError);
  });
}
