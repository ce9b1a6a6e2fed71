/**
 * The gateway's cookies on a preview origin. `__Host-` forces Secure, Path=/ and no Domain
 * (RFC 6265bis §4.1.3.2), so each cookie is host-only: a cookie of 3000-a.preview… never
 * reaches 8080-a.preview…. In a cross-site iframe they are `SameSite=None; Partitioned`
 * (CHIPS), at top level `SameSite=Lax`.
 */
import { ACCESS_COOKIE, GATE_COOKIE_PREFIX, REFRESH_COOKIE, SHARE_END_COOKIE } from '../../../protocol/index.js';
import type { CookieMode } from '../store/store.js';

function cookie(name: string, value: string, maxAgeSeconds: number, mode: CookieMode): string {
  const same = mode === 'partitioned' ? 'SameSite=None; Partitioned' : 'SameSite=Lax';
  return `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Secure; HttpOnly; ${same}`;
}

/** Set-Cookie values for a fresh grant. The refresh cookie carries the mode so renewals keep it. */
export function grantCookies(
  grant: { accessToken: string; expiresAt: number; refreshToken: string; refreshExpiresAt: number },
  mode: CookieMode,
  now: number,
): string[] {
  return [
    // The access cookie outlives its token a little, so an expired token still arrives and the
    // gateway can answer "expired" (and renew) instead of "missing".
    cookie(ACCESS_COOKIE, grant.accessToken, (grant.refreshExpiresAt - now) / 1000, mode),
    cookie(REFRESH_COOKIE, `${mode === 'partitioned' ? 'p' : 'l'}.${grant.refreshToken}`, (grant.refreshExpiresAt - now) / 1000, mode),
  ];
}

/** Set-Cookie values that delete both cookies. */
export function clearCookies(mode: CookieMode): string[] {
  return [cookie(ACCESS_COOKIE, '', 0, mode), cookie(REFRESH_COOKIE, '', 0, mode)];
}

/** Reads the refresh cookie value: `{mode}.{credential}`. */
export function parseRefreshCookie(value: string | undefined): { mode: CookieMode; token: string } | null {
  if (!value) return null;
  const m = /^([pl])\.([A-Za-z0-9_-]{20,200})$/.exec(value);
  if (!m) return null;
  return { mode: m[1] === 'p' ? 'partitioned' : 'lax', token: m[2]! };
}

/** Parses a Cookie header into name → value (first wins). */
export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** The Cookie header without the gateway's cookies (null when nothing is left). */
export function stripGateCookies(header: string | null): string | null {
  if (!header) return null;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => {
      if (!p) return false;
      const name = p.split('=', 1)[0]!.trim();
      // Any __Host-pg-* name, not just the two we set: a client must not smuggle look-alikes through either.
      return !name.startsWith(GATE_COOKIE_PREFIX);
    });
  return kept.length ? kept.join('; ') : null;
}

/** How long after a share's end its browser still hears "this share link has expired". */
export const SHARE_END_MEMORY_SECONDS = 7 * 86400;

/** The share-end marker set when a browser follows a share link (protocol/names.ts SHARE_END_COOKIE). */
export function shareEndCookie(endsAt: number, mode: CookieMode, now: number): string {
  return cookie(SHARE_END_COOKIE, String(Math.floor(endsAt)), (endsAt - now) / 1000 + SHARE_END_MEMORY_SECONDS, mode);
}

/**
 * Whether a request that carries no credential comes from a browser whose share link has ended:
 * the marker names a time already past. The marker only picks the wording of a refusal (a
 * client that forges it is told its share expired instead of "private"); it grants nothing.
 */
export function endedShare(cookieHeader: string | null, now: number): boolean {
  const value = parseCookies(cookieHeader).get(SHARE_END_COOKIE);
  if (!value || !/^\d{1,16}$/.test(value)) return false;
  return Number(value) <= now;
}
