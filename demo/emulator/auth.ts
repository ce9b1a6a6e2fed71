/**
 * Who may pass the preview proxy (docs/daytona.md, "Authentication"):
 *   0. public sandbox, except reserved ports 22222 / 2280 / 33333;
 *   1. `Authorization: Bearer <API key>` (stripped);
 *   2. `X-Daytona-Preview-Token: <standard token>` (always stripped);
 *   3. query `DAYTONA_SANDBOX_AUTH_KEY=<standard token>` (removed when valid, sets no cookie);
 *   4. cookie `daytona-sandbox-auth-{idOrToken}` (sealed value naming the sandbox, ≤ 3600 s);
 *   5. signed token in the host (success sets that cookie; unknown or expired: the 307, or
 *      production's 401 JSON with `signedTokenRejection: 'unauthorized'`).
 * Anything else ends in the identity-provider redirect (the caller builds the 307).
 * Inferred, not documented: all `daytona-sandbox-auth-*` cookies are removed before the app.
 */
import type { IncomingMessage } from 'node:http';
import { headerValue, parseCookies } from './headers.js';
import type { PreviewHost } from './host.js';
import type { SandboxRecord, SandboxStore } from './sandboxes.js';
import type { TokenCheckCache } from './token-cache.js';
import { UUID_PATTERN, type CookieSealer } from './tokens.js';

export const RESERVED_PORTS: ReadonlySet<number> = new Set([22222, 2280, 33333]);
export const PREVIEW_TOKEN_HEADER = 'x-daytona-preview-token';
export const AUTH_QUERY = 'DAYTONA_SANDBOX_AUTH_KEY';
export const AUTH_COOKIE_PREFIX = 'daytona-sandbox-auth-';
export const AUTH_COOKIE_MAX_AGE = 3600;

export type AuthMethod = 'public' | 'api-key' | 'header' | 'query' | 'cookie' | 'signed';

export type AuthOutcome =
  | { kind: 'ok'; sandbox: SandboxRecord; method: AuthMethod; setCookie?: string }
  /** An unknown, expired or revoked signed token: a 307 (v0.190), or production's 401 (switch). */
  | { kind: 'signed-invalid' }
  | { kind: 'unauthenticated' };

export interface AuthDeps {
  store: SandboxStore;
  apiKey: string;
  sealer: CookieSealer;
  /** Daytona's token-check cache (token-cache.ts), or null for strict checks. */
  tokenCache: TokenCheckCache | null;
}

export function authenticate(deps: AuthDeps, req: IncomingMessage, host: PreviewHost, query: URLSearchParams): AuthOutcome {
  const cookieName = AUTH_COOKIE_PREFIX + host.idOrToken;
  const cookieSandboxId = (() => {
    const value = parseCookies(req.headers.cookie)[cookieName];
    return value ? deps.sealer.open(value) : null;
  })();

  let sandbox = deps.store.getById(host.idOrToken);
  let viaSignedToken = false;
  if (!sandbox) {
    // No existence check on purpose (docs/daytona.md, "Authentication"): an unknown or deleted
    // sandbox id gets the same 307 as a wrong token, so the proxy is no existence oracle.
    if (UUID_PATTERN.test(host.idOrToken)) return { kind: 'unauthenticated' };
    const remembered = deps.tokenCache ? deps.store.signedRecord(host.idOrToken) : null;
    const live = () => {
      const entry = deps.store.lookupSigned(host.idOrToken);
      return entry !== null && entry.port === host.port;
    };
    const signedValid = deps.tokenCache ? deps.tokenCache.check(`signed:${host.port}:${host.idOrToken}`, live) : live();
    const signed = signedValid ? (deps.store.lookupSigned(host.idOrToken) ?? remembered) : null;
    if (signed && signed.port === host.port) {
      sandbox = deps.store.getById(signed.sandboxId);
      if (!sandbox) return { kind: 'unauthenticated' };
      viaSignedToken = true;
    } else {
      // An expired (or API-expired) signed URL still opens for a browser holding its cookie:
      // docs/daytona.md, "expiring a signed URL does not end browser sessions already holding the cookie".
      const fromCookie = cookieSandboxId ? deps.store.getById(cookieSandboxId) : undefined;
      return fromCookie ? { kind: 'ok', sandbox: fromCookie, method: 'cookie' } : { kind: 'signed-invalid' };
    }
  }

  if (sandbox.public && !RESERVED_PORTS.has(host.port)) return { kind: 'ok', sandbox, method: 'public' };
  const authorization = headerValue(req.headers, 'authorization') ?? '';
  if (authorization.startsWith('Bearer ') && authorization.slice(7).trim() === deps.apiKey) return { kind: 'ok', sandbox, method: 'api-key' };
  const current = sandbox;
  const tokenValid = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const compare = () => given === current.token;
    return deps.tokenCache ? deps.tokenCache.check(`${current.id}:${given}`, compare) : compare();
  };
  if (tokenValid(headerValue(req.headers, PREVIEW_TOKEN_HEADER))) return { kind: 'ok', sandbox, method: 'header' };
  if (tokenValid(query.get(AUTH_QUERY))) return { kind: 'ok', sandbox, method: 'query' };
  if (cookieSandboxId === sandbox.id) return { kind: 'ok', sandbox, method: 'cookie' };
  if (viaSignedToken) {
    const value = deps.sealer.seal(sandbox.id, AUTH_COOKIE_MAX_AGE);
    // docs/daytona.md: `Max-Age=3600; Path=/; Domain=.<host>; HttpOnly` (+Secure under TLS), no SameSite.
    const setCookie = `${cookieName}=${value}; Max-Age=${AUTH_COOKIE_MAX_AGE}; Path=/; Domain=.${host.hostname}; HttpOnly`;
    return { kind: 'ok', sandbox, method: 'signed', setCookie };
  }
  return { kind: 'unauthenticated' };
}
