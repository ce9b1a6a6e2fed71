/**
 * Identifier and token formats, as docs/daytona.md states them:
 *  - sandbox id: a UUIDv4;
 *  - standard preview token: `nanoid(32).toLowerCase()` (so it may contain `-` and `_`);
 *  - signed preview token: 16 characters of `[a-z0-9]`.
 * The auth cookie Daytona sets is "an encrypted value naming the sandbox"; here it is an
 * HMAC-sealed `{sandboxId, exp}` the emulator can verify, which is all callers can observe.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const NANOID_ALPHABET = 'useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict';
const SIGNED_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newSandboxId(): string {
  return randomUUID();
}

function pick(alphabet: string, length: number): string {
  // 256 is a multiple of 64 (nanoid); for 36 symbols the modulo bias is irrelevant to an emulator.
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** `nanoid(32).toLowerCase()`, exactly how Daytona's API mints the sandbox auth token. */
export function newStandardToken(): string {
  return pick(NANOID_ALPHABET, 32).toLowerCase();
}

export function newSignedToken(): string {
  return pick(SIGNED_ALPHABET, 16);
}

export const SIGNED_TOKEN_PATTERN = /^[a-z0-9]{16}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Seals and opens the `daytona-sandbox-auth-*` cookie value. One random key per emulator. */
export class CookieSealer {
  private readonly key = randomBytes(32);

  seal(sandboxId: string, maxAgeSeconds: number, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ sid: sandboxId, exp: now + maxAgeSeconds * 1000 })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The sandbox id the value names, or null when forged or older than its max age. */
  open(value: string, now = Date.now()): string | null {
    const dot = value.indexOf('.');
    if (dot <= 0) return null;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: unknown; exp?: unknown };
      if (typeof parsed.sid !== 'string' || typeof parsed.exp !== 'number' || parsed.exp <= now) return null;
      return parsed.sid;
    } catch {
      return null;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
