/**
 * `preview-gate keys`: a GATE_SIGNING_KEYS set (a JWK set of ES256 private keys; the first key
 * signs, every key verifies: broker/core/tokens/keys.ts). `keys rotate` puts a new signing key
 * in front of an existing set; the old keys keep verifying what they signed until you drop them
 * (after the longest lifetime of a token they signed: share links, up to GATE's 30-day maximum).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface JwkSet {
  keys: Record<string, unknown>[];
}

/** One new ES256 private JWK with a thumbprint kid. */
export async function newSigningKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = (await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JWK)).slice(0, 16);
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: 'ES256', use: 'sig' };
}

/** Parses an existing set; throws a message that says what is wrong. */
export function parseKeySet(text: string): JwkSet {
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    throw new Error('the existing key set is not JSON; pass the value of GATE_SIGNING_KEYS ({"keys":[...]})');
  }
  const keys = (set as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k && typeof k === 'object' && (k as JWK).kty === 'EC' && (k as JWK).crv === 'P-256')) {
    throw new Error('the existing key set must be {"keys":[...]} of EC P-256 JWKs');
  }
  return { keys: keys as Record<string, unknown>[] };
}

/** A new set of one key, or `existing` with a new signing key in front. */
export async function keySet(existing?: JwkSet): Promise<JwkSet> {
  return { keys: [await newSigningKey(), ...(existing?.keys ?? [])] };
}
