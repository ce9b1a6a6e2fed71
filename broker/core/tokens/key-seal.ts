/**
 * Sealing of the fleet's private signing keys at rest in Redis (fleet-keys.ts). A dump of Redis
 * must open nothing and a write to Redis must not be able to plant a key:
 *  - the AES-256-GCM key is HKDF-SHA-256(GATE_KEYS_SECRET, salt "preview-gate/keys/v1",
 *    info = the key prefix), so the secret itself is never used as a key and two deployments
 *    sharing a secret still get different sealing keys;
 *  - the `kid` is the additional authenticated data: a sealed blob cannot be moved to another kid;
 *  - after opening, the kid must equal the public key's JWK thumbprint prefix, and the public
 *    key published in the JWKS is derived from the opened private JWK, never read from Redis.
 */
import { base64url, calculateJwkThumbprint, type JWK } from 'jose';

const enc = new TextEncoder();

export async function sealingKey(secret: string, prefix: string): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', enc.encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('preview-gate/keys/v1'), info: enc.encode(prefix) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** `kid` of a public EC JWK: the first 16 characters of its RFC 7638 thumbprint. */
export async function kidOf(jwk: JWK): Promise<string> {
  return (await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } as JWK)).slice(0, 16);
}

export async function sealPrivateJwk(key: CryptoKey, kid: string, jwk: JWK): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const body = JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d });
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(kid) }, key, enc.encode(body));
  return `${base64url.encode(iv)}.${base64url.encode(new Uint8Array(ct))}`;
}

/** The private JWK, or null when the secret is wrong, the blob damaged or the kid does not match. */
export async function openPrivateJwk(key: CryptoKey, kid: string, sealed: string): Promise<JWK | null> {
  const [iv, ct] = sealed.split('.');
  if (!iv || !ct) return null;
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: new Uint8Array(base64url.decode(iv)), additionalData: enc.encode(kid) },
      key,
      new Uint8Array(base64url.decode(ct)),
    );
    const jwk = JSON.parse(new TextDecoder().decode(pt)) as JWK;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || (await kidOf(jwk)) !== kid) return null;
    return jwk;
  } catch {
    return null;
  }
}
