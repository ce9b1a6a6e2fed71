/** Small WebCrypto helpers (portable: no `node:crypto`). */
import { base64url } from 'jose';

const enc = new TextEncoder();

/** `bytes` random bytes as base64url (default 32 = 256 bits, enough for any bearer secret). */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A short random id for records that are not secrets (session ids, share ids). */
export function randomId(): string {
  return randomToken(12);
}

/** SHA-256 of a string, base64url: how secrets are keyed in the store. */
export async function hashSecret(value: string, domain = 'pg'): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', enc.encode(`${domain}:${value}`));
  return base64url.encode(new Uint8Array(digest));
}

async function keyFrom(secret: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest('SHA-256', enc.encode(`pg-seal:${secret}`));
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** AES-GCM-seals `plaintext` under a key derived from `secret` (used for the refresh grace successor). */
export async function seal(secret: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await keyFrom(secret), enc.encode(plaintext)));
  return `${base64url.encode(iv)}.${base64url.encode(ct)}`;
}

/** Opens what `seal` produced; null when the secret is wrong or the box damaged. */
export async function unseal(secret: string, sealed: string): Promise<string | null> {
  const [iv, ct] = sealed.split('.');
  if (!iv || !ct) return null;
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: new Uint8Array(base64url.decode(iv)) },
      await keyFrom(secret),
      new Uint8Array(base64url.decode(ct)),
    );
    return new TextDecoder().decode(pt);
  } catch {
    return null;
  }
}
