/**
 * One key set for the whole fleet (GATE_REDIS_URL without GATE_SIGNING_KEYS): a KeyRing
 * (keys.ts) whose keys live in Redis, so every instance signs with the same ES256 key and
 * verifies every other instance's tokens, and a restart keeps them.
 *
 * Redis, under the store's prefix P:
 *   P keys       the key set: JSON {keys:[{kid, sealed, createdAt, activateAt, retiredAt?}]},
 *                newest first; `sealed` = the private JWK sealed with GATE_KEYS_SECRET (key-seal.ts)
 *   P keys:exp   hash kid → latest `exp` (ms) of any token any instance signed with that key
 *                (each instance writes its maxima and reads the fleet's every second)
 *   channel P keys   "changed" after every write of the set
 * - Start: the first instance writes a fresh set (SET only if absent, in Lua); the others load it.
 * - Rotation (`rotate()` on any instance): one compare-and-set in Lua replaces the set, so two
 *   concurrent rotations produce one new key; the loser adopts the winner's. The new key is
 *   published at once but signs only from `activateAt` = now + `activationDelayMs` (1.5 s), so
 *   every instance has its public key (pub/sub, milliseconds) before the first token it signs
 *   reaches anyone. The previous key is retired at that moment and keeps verifying (and stays
 *   in the JWKS) until max(latest exp it signed fleet-wide, retirement + `retireGraceMs`).
 * - Every instance reloads on the channel, after every reconnect, and when asked for an
 *   unknown kid (at most once a second). A Redis that came back empty gets the last set this
 *   instance loaded written back (the same keys: nobody is signed out).
 * The hot path (signer/verifier/jwks) reads memory only.
 */
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey as JoseKey } from 'jose';
import type { Clock, Logger } from '../contracts.js';
import type { KeyRing } from './keys.js';
import { kidOf, openPrivateJwk, sealingKey, sealPrivateJwk } from './key-seal.js';
import { luaScript, RedisUnavailableError, type RedisPort } from '../store/redis/port.js';

export interface FleetKeyRingOptions {
  port: RedisPort;
  prefix: string;
  /** GATE_KEYS_SECRET. */
  secret: string;
  clock: Clock;
  logger?: Logger;
  /** How long a retired key verifies at least (covers tokens whose exp was not yet recorded). Default 6 min. */
  retireGraceMs?: number;
  /** Delay between publishing a new key and signing with it. Default 1500 ms. */
  activationDelayMs?: number;
  /** How often noted expiries are written to Redis and the fleet's read back. Default 1000 ms. */
  flushIntervalMs?: number;
}

export interface FleetKeyRing extends KeyRing {
  /** Reloads the set from Redis now (also creates it when absent). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface DocEntry {
  kid: string;
  sealed: string;
  createdAt: number;
  activateAt: number;
  retiredAt?: number;
}

interface LiveEntry extends DocEntry {
  privateKey: JoseKey;
  publicKey: JoseKey;
  publicJwk: JWK;
}

/** Compare-and-set of the key set. KEYS[1] = set; ARGV: expected ('' = absent), new, channel. */
const casKeySet = luaScript(`
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'changed')
return 1`);

/** KEYS[1] = kid → exp hash; ARGV: kid, exp, kid, exp, ... keeps the larger. */
const maxExpiries = luaScript(`
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`);

async function freshKey(sealKey: CryptoKey, now: number, activateAt: number): Promise<DocEntry> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await kidOf(jwk);
  return { kid, sealed: await sealPrivateJwk(sealKey, kid, jwk), createdAt: now, activateAt };
}

export async function createFleetKeyRing(o: FleetKeyRingOptions): Promise<FleetKeyRing> {
  const { port, clock } = o;
  const setKey = `${o.prefix}keys`;
  const expKey = `${o.prefix}keys:exp`;
  const graceMs = o.retireGraceMs ?? 6 * 60_000;
  const activationDelayMs = o.activationDelayMs ?? 1500;
  const sealKey = await sealingKey(o.secret, o.prefix);

  let raw = '';
  let entries: LiveEntry[] = [];
  const opened = new Map<string, LiveEntry>();
  const lastExp = new Map<string, number>();
  const dirty = new Set<string>();
  let syncing: Promise<void> | null = null;
  let lastMissSync = 0;

  const expired = (e: LiveEntry, now: number) => e.retiredAt !== undefined && now > Math.max(lastExp.get(e.kid) ?? 0, e.retiredAt + graceMs);

  async function open(d: DocEntry): Promise<LiveEntry | null> {
    const known = opened.get(d.kid);
    if (known && known.sealed === d.sealed) return { ...known, ...d, privateKey: known.privateKey, publicKey: known.publicKey, publicJwk: known.publicJwk };
    const jwk = await openPrivateJwk(sealKey, d.kid, d.sealed);
    if (!jwk) return null;
    const privateKey = (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as JoseKey;
    const pub: JWK = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
    const publicKey = (await importJWK({ ...pub, alg: 'ES256' }, 'ES256')) as JoseKey;
    const live: LiveEntry = { ...d, privateKey, publicKey, publicJwk: { ...pub, kid: d.kid, alg: 'ES256', use: 'sig' } };
    opened.set(d.kid, live);
    return live;
  }

  async function apply(text: string, strict: boolean): Promise<void> {
    const doc = JSON.parse(text) as { keys: DocEntry[] };
    const next: LiveEntry[] = [];
    for (const d of doc.keys ?? []) {
      const e = await open(d);
      if (e) next.push(e);
      else {
        o.logger?.error('signing_key_unsealable', { kid: d.kid });
        if (strict)
          throw new TypeError(
            'preview-gate: the signing keys in Redis were sealed with another GATE_KEYS_SECRET (every instance must share the same value), or they were altered',
          );
      }
    }
    if (next.length === 0) throw new TypeError('preview-gate: the key set in Redis holds no key this instance can open (check GATE_KEYS_SECRET)');
    raw = text;
    entries = next;
  }

  async function readExpiries(): Promise<void> {
    const h = (await port.command(['HGETALL', expKey])) as string[];
    for (let i = 0; i + 1 < h.length; i += 2) {
      const v = Number(h[i + 1]);
      if (v > (lastExp.get(h[i]!) ?? 0)) lastExp.set(h[i]!, v);
    }
  }

  async function loadOnce(strict: boolean): Promise<void> {
    let text = (await port.command(['GET', setKey])) as string | null;
    if (text === null) {
      // First instance, or a Redis that came back empty: write what we know, or a fresh set.
      const now = clock();
      const initial = raw || JSON.stringify({ keys: [await freshKey(sealKey, now, now)] });
      await casKeySet(port, [setKey], ['', initial, setKey]);
      if (raw) for (const kid of lastExp.keys()) dirty.add(kid);
      text = (await port.command(['GET', setKey])) as string | null;
      if (text === null) throw new RedisUnavailableError('key set vanished while being created');
      if (!raw) o.logger?.info('signing_keys_created', {});
    }
    if (text !== raw) await apply(text, strict);
    await readExpiries();
  }

  function sync(strict = false): Promise<void> {
    syncing ??= loadOnce(strict).finally(() => {
      syncing = null;
    });
    return syncing;
  }
  const background = () => {
    sync().catch((err) => o.logger?.warn('signing_keys_sync_failed', { error: err instanceof Error ? err.name : 'unknown' }));
  };

  async function flush(): Promise<void> {
    if (dirty.size === 0) return;
    const args: string[] = [];
    for (const kid of dirty) args.push(kid, String(lastExp.get(kid) ?? 0));
    dirty.clear();
    try {
      await maxExpiries(port, [expKey], args);
    } catch (err) {
      for (let i = 0; i < args.length; i += 2) dirty.add(args[i]!); // again next time
      throw err;
    }
  }

  await sync(true);
  await port.subscribe([setKey], () => background());
  const stopReady = port.onReady(background);
  // Every second: write this instance's maxima, read the fleet's (a small hash), so a retired
  // key stays while any instance's token signed with it may still be in use.
  const timer = setInterval(() => {
    flush()
      .then(readExpiries)
      .catch(() => {});
  }, o.flushIntervalMs ?? 1000);
  (timer as unknown as { unref?: () => void }).unref?.();

  const current = (): LiveEntry => {
    const now = clock();
    return entries.find((e) => e.activateAt <= now) ?? entries[entries.length - 1]!;
  };

  return {
    signer() {
      const e = current();
      return { kid: e.kid, key: e.privateKey };
    },
    noteSigned(kid, expMs) {
      if (expMs > (lastExp.get(kid) ?? 0)) {
        lastExp.set(kid, expMs);
        dirty.add(kid);
      }
    },
    verifier(kid) {
      const now = clock();
      const e = entries.find((x) => x.kid === kid);
      if (e && !expired(e, now)) return e.publicKey;
      if (!e && kid && now - lastMissSync > 1000) {
        // A kid we do not know: perhaps a rotation whose message this instance missed.
        lastMissSync = now;
        background();
      }
      return null;
    },
    jwks() {
      const now = clock();
      return { keys: entries.filter((e) => !expired(e, now)).map((e) => ({ ...e.publicJwk })) };
    },
    async rotate() {
      await flush();
      await sync();
      const now = clock();
      const before = raw;
      const fresh = await freshKey(sealKey, now, now + activationDelayMs);
      const kept: DocEntry[] = entries
        .filter((e) => !expired(e, now))
        .map(({ kid, sealed, createdAt, activateAt, retiredAt }) => ({ kid, sealed, createdAt, activateAt, retiredAt: retiredAt ?? fresh.activateAt }));
      const text = JSON.stringify({ keys: [fresh, ...kept] });
      const won = (await casKeySet(port, [setKey], [before, text, setKey])) === 1;
      await sync();
      if (!won) return entries[0]!.kid; // another instance rotated at the same moment: one rotation
      o.logger?.info('signing_key_rotated', { kid: fresh.kid, activateAt: fresh.activateAt });
      return fresh.kid;
    },
    sync: () => sync(),
    async close() {
      clearInterval(timer);
      stopReady();
      await flush().catch(() => {});
    },
  };
}
