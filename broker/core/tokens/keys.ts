/**
 * The gateway's ES256 signing keys, published as JWKS, rotated with an overlap: after
 * `rotate()` the new key signs while each older key keeps verifying until the last token it
 * signed has expired (share links can live 30 days, so an old key may stay that long).
 */
import { exportJWK, generateKeyPair, importJWK, calculateJwkThumbprint, type JWK, type CryptoKey as JoseKey } from 'jose';
import type { Clock } from '../contracts.js';

interface KeyEntry {
  kid: string;
  privateKey: JoseKey | null;
  publicKey: JoseKey;
  publicJwk: JWK;
  /** Latest `exp` (ms) of any token this key signed; the key is dropped once past it, after rotation. */
  lastExpiry: number;
  retired: boolean;
}

export interface KeyRing {
  /** The current signing key. */
  signer(): { kid: string; key: JoseKey };
  /** Notes that the current key signed a token valid until `expMs`. */
  noteSigned(kid: string, expMs: number): void;
  /** Verification key for a `kid`, or null when unknown/dropped. */
  verifier(kid: string | undefined): JoseKey | null;
  /** The public JWK set (`/.well-known/jwks.json`). */
  jwks(): { keys: JWK[] };
  /** A new key signs from now on; old keys verify until their tokens expire. Returns the new kid. */
  rotate(): Promise<string>;
}

async function generated(): Promise<KeyEntry> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' }, lastExpiry: 0, retired: false };
}

async function imported(jwk: Record<string, unknown>, index: number): Promise<KeyEntry> {
  const where = `GATE_SIGNING_KEYS key #${index}`;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new TypeError(`preview-gate config: ${where} must be an EC P-256 JWK (kty "EC", crv "P-256")`);
  const { d, ...pub } = jwk as JWK & Record<string, unknown>;
  const publicKey = (await importJWK({ ...pub, alg: 'ES256' } as JWK, 'ES256')) as JoseKey;
  const privateKey = d ? ((await importJWK({ ...jwk, alg: 'ES256' } as JWK, 'ES256')) as JoseKey) : null;
  if (index === 0 && !privateKey) throw new TypeError(`preview-gate config: ${where} (the signing key) must hold its private part "d"`);
  const kid = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : (await calculateJwkThumbprint(pub as JWK)).slice(0, 16);
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: pub.x as string, y: pub.y as string, kid, alg: 'ES256', use: 'sig' };
  // Configured non-first keys verify until the operator removes them from the set.
  return { kid, privateKey, publicKey, publicJwk, lastExpiry: index === 0 ? 0 : Number.MAX_SAFE_INTEGER, retired: index !== 0 };
}

/** Builds the key ring: generated (embedded default) or from a configured JWK set. */
export async function createKeyRing(clock: Clock, jwkSet?: { keys: Record<string, unknown>[] } | null): Promise<KeyRing> {
  const entries: KeyEntry[] = jwkSet ? await Promise.all(jwkSet.keys.map((k, i) => imported(k, i))) : [await generated()];
  const prune = () => {
    const now = clock();
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.retired && e.lastExpiry <= now) entries.splice(i, 1);
    }
  };
  return {
    signer() {
      const e = entries[0]!;
      return { kid: e.kid, key: e.privateKey! };
    },
    noteSigned(kid, expMs) {
      const e = entries.find((x) => x.kid === kid);
      if (e && expMs > e.lastExpiry) e.lastExpiry = expMs;
    },
    verifier(kid) {
      prune();
      return entries.find((x) => x.kid === kid)?.publicKey ?? null;
    },
    jwks() {
      prune();
      return { keys: entries.map((e) => ({ ...e.publicJwk })) };
    },
    async rotate() {
      const fresh = await generated();
      for (const e of entries) e.retired = true;
      entries.unshift(fresh);
      prune();
      return fresh.kid;
    },
  };
}
