/**
 * Who is asking, on a preview origin. The credential paths, in order:
 *  1. an access token in `X-Daytona-Preview-Token` or `Authorization: Bearer` (Service Worker, programs);
 *  2. a share-link token in `?__gate_share=` (browsers exchange it for cookies, programs are served);
 *  3. a single-use WebSocket ticket in `?__gate_ticket=` (upgrades only);
 *  4. the access cookie; when it is missing or expired and the refresh cookie is live, a
 *     server-side renewal (fresh cookies on the answer; upgrades only peek, see credentials.ts);
 *  5. a sandbox its owner made public in Daytona.
 * A header credential, when present, is authoritative: it never falls back to a cookie, so a
 * Service Worker always learns that its token expired.
 */
import {
  ACCESS_COOKIE,
  GateError,
  PREVIEW_TOKEN_HEADER,
  REFRESH_COOKIE,
  SHARE_QUERY,
  TOKEN_TYPES,
  WS_TICKET_QUERY,
  type PreviewTarget,
} from '../../protocol/index.js';
import type { Clock, DaytonaPort, Principal, SandboxInfo } from './contracts.js';
import type { ResolvedConfig } from './config.js';
import type { Credentials } from './credentials.js';
import { inScope, scopeOf } from './credentials.js';
import type { Store } from './store/store.js';
import type { GateAccessClaims, Tokens } from './tokens/tokens.js';
import { cookieModeOf, grantCookies, parseCookies, parseRefreshCookie } from './http/cookies.js';
import { stripGateQuery } from './hygiene.js';

export interface PreviewHost {
  target: PreviewTarget;
  origin: string;
}

export interface Authenticated {
  principal: Principal;
  pathScope?: string;
  shareId?: string;
  /** Set-Cookie values to add to the answer (server-side renewal, share exchange). */
  setCookies: string[];
  /** The Authorization header carried our token: strip it before forwarding. */
  authorizationWasOurs: boolean;
  /** A browser followed a share link: 303 here (the same URL without the token). */
  redirectTo?: string;
}

export interface AuthenticateOptions {
  /** Allow server-side renewal through the refresh cookie (false: upgrades peek instead). */
  renew: boolean;
  /** Accept a WebSocket ticket. */
  ticket: boolean;
}

export interface AuthenticatorDeps {
  config: ResolvedConfig;
  store: Store;
  tokens: Tokens;
  credentials: Credentials;
  daytona: DaytonaPort;
  clock: Clock;
}

/** Uncached Daytona lookups per second for credential-less requests (public sandboxes). */
export const PUBLIC_LOOKUPS_PER_SECOND = 20;

/** True for a browser navigation (Fetch Metadata, or an HTML-accepting GET from an older client). */
export function isNavigation(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers.get('sec-fetch-mode');
  if (mode) return mode === 'navigate';
  return /\btext\/html\b/.test(req.headers.get('accept') ?? '');
}

export function createAuthenticator(d: AuthenticatorDeps) {
  const { config, store, tokens, credentials, daytona, clock } = d;
  const publicCache = new Map<string, { info: SandboxInfo | null; until: number }>();
  // Credential-less requests for made-up sandbox ids must not turn into unbounded Daytona API
  // calls: at most PUBLIC_LOOKUPS_PER_SECOND uncached lookups; past that, "private" is answered.
  let windowStart = 0;
  let lookups = 0;

  async function sandboxIsPublic(id: string): Promise<boolean> {
    const hit = publicCache.get(id);
    if (hit && hit.until > clock()) return hit.info?.public === true;
    const now = clock();
    if (now - windowStart >= 1000) {
      windowStart = now;
      lookups = 0;
    }
    if (++lookups > PUBLIC_LOOKUPS_PER_SECOND) return false;
    let info: SandboxInfo | null = null;
    try {
      info = await daytona.getSandbox(id);
    } catch {
      return false; // Daytona down: a private answer is the safe one.
    }
    if (publicCache.size > 10_000) publicCache.clear();
    publicCache.set(id, { info, until: clock() + 10_000 });
    return info?.public === true;
  }

  function checkScope(c: { aud: string; sbx: string; port: number }, host: PreviewHost, what: string): void {
    if (c.aud !== host.origin || c.sbx !== host.target.sandboxId || c.port !== host.target.port) {
      throw new GateError('wrong_scope', `This ${what} is for another sandbox or port, not ${host.origin}.`);
    }
  }

  function checkPath(pathname: string, scope: string | undefined): void {
    if (scope && !inScope(pathname, scope)) {
      throw new GateError('wrong_scope', `This link only opens pages under ${scope}.`);
    }
  }

  /** Verifies an access token for this host and path, including revocation. */
  async function fromAccessToken(token: string, host: PreviewHost, pathname: string): Promise<Authenticated> {
    const c: GateAccessClaims = await tokens.verifyAccess(token);
    checkScope(c, host, 'access token');
    if (await store.isRevoked(`sid:${c.sid}`)) throw new GateError('session_revoked', 'This preview session was ended.');
    if (c.shr && (await store.isRevoked(`shr:${c.shr}`))) throw new GateError('share_revoked', 'This share link was revoked by the person who shared it.');
    checkPath(pathname, c.pth);
    return {
      principal: { userId: c.sub, sessionId: c.sid, kind: c.knd === 'share' ? 'share' : 'session' },
      ...(c.pth ? { pathScope: c.pth } : {}),
      ...(c.shr ? { shareId: c.shr } : {}),
      setCookies: [],
      authorizationWasOurs: false,
    };
  }

  async function fromShare(token: string, req: Request, url: URL, host: PreviewHost): Promise<Authenticated> {
    const claims = await tokens.verifyShare(token);
    checkScope(claims, host, 'share link');
    const share = await credentials.checkShareLive(claims.shr);
    const scope = share.path ? scopeOf(share.path) : undefined;
    checkPath(url.pathname, scope);
    await store.touchShare(share.id, clock());
    if (isNavigation(req) && req.method === 'GET') {
      // A browser: exchange for cookies and take the token out of the address bar (and history).
      const { cookieGrant } = await credentials.openShareSession(share, host.origin, cookieModeOf(req));
      return {
        principal: { userId: `share:${share.id}`, sessionId: share.id, kind: 'share' },
        ...(scope ? { pathScope: scope } : {}),
        shareId: share.id,
        setCookies: grantCookies(cookieGrant, cookieModeOf(req), clock()),
        authorizationWasOurs: false,
        redirectTo: host.origin + stripGateQuery(url.pathname + url.search),
      };
    }
    return {
      principal: { userId: `share:${share.id}`, sessionId: share.id, kind: 'share' },
      ...(scope ? { pathScope: scope } : {}),
      shareId: share.id,
      setCookies: [],
      authorizationWasOurs: false,
    };
  }

  async function fromTicket(ticket: string, host: PreviewHost, pathname: string): Promise<Authenticated> {
    const t = await credentials.consumeTicket(ticket);
    if (!t) throw new GateError('invalid_token', 'This WebSocket ticket is unknown, already used or expired (tickets work once, for 30 seconds).');
    if (t.sandboxId !== host.target.sandboxId || t.port !== host.target.port) throw new GateError('wrong_scope', 'This WebSocket ticket is for another sandbox or port.');
    if (await store.isRevoked(`sid:${t.sessionId}`)) throw new GateError('session_revoked', 'This preview session was ended.');
    if (t.shareId) await credentials.checkShareLive(t.shareId);
    checkPath(pathname, t.pathScope);
    return {
      principal: { userId: t.userId, sessionId: t.sessionId, kind: t.kind },
      ...(t.pathScope ? { pathScope: t.pathScope } : {}),
      ...(t.shareId ? { shareId: t.shareId } : {}),
      setCookies: [],
      authorizationWasOurs: false,
    };
  }

  return {
    sandboxIsPublic,

    /** Resolves the caller or throws the coded reason. */
    async authenticate(req: Request, host: PreviewHost, opts: AuthenticateOptions): Promise<Authenticated> {
      const url = new URL(req.url);
      const pathname = url.pathname;

      const headerToken = req.headers.get(PREVIEW_TOKEN_HEADER);
      if (headerToken !== null) return fromAccessToken(headerToken.trim(), host, pathname);
      const authz = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
      if (authz && tokens.isOurs(authz[1]!, TOKEN_TYPES.access)) {
        return { ...(await fromAccessToken(authz[1]!, host, pathname)), authorizationWasOurs: true };
      }

      const share = url.searchParams.get(SHARE_QUERY);
      if (share !== null) return fromShare(share, req, url, host);

      if (opts.ticket) {
        const ticket = url.searchParams.get(WS_TICKET_QUERY);
        if (ticket !== null) return fromTicket(ticket, host, pathname);
      }

      const cookies = parseCookies(req.headers.get('cookie'));
      const accessCookie = cookies.get(ACCESS_COOKIE);
      const refreshCookie = parseRefreshCookie(cookies.get(REFRESH_COOKIE));
      let accessError: unknown = null;
      if (accessCookie) {
        try {
          return await fromAccessToken(accessCookie, host, pathname);
        } catch (err) {
          // Only an expired or unreadable token is renewable; revoked or out of scope is final.
          const code = err instanceof GateError ? err.code : 'internal';
          if (!refreshCookie || (code !== 'token_expired' && code !== 'invalid_token')) throw err;
          accessError = err;
        }
      }
      if (refreshCookie) {
        if (!opts.renew) {
          const s = await credentials.peekRefresh(refreshCookie.token, host.origin);
          checkPath(pathname, s.pathScope);
          return {
            principal: { userId: s.userId, sessionId: s.id, kind: s.kind },
            ...(s.pathScope ? { pathScope: s.pathScope } : {}),
            ...(s.shareId ? { shareId: s.shareId } : {}),
            setCookies: [],
            authorizationWasOurs: false,
          };
        }
        try {
          const { grant, session } = await credentials.refresh(refreshCookie.token, host.origin);
          checkPath(pathname, session.pathScope);
          return {
            principal: { userId: session.userId, sessionId: session.id, kind: session.kind },
            ...(session.pathScope ? { pathScope: session.pathScope } : {}),
            ...(session.shareId ? { shareId: session.shareId } : {}),
            setCookies: grantCookies(grant, refreshCookie.mode, clock()),
            authorizationWasOurs: false,
          };
        } catch (err) {
          // A dead session: tell the browser to forget its cookies along with the error.
          if (err instanceof GateError && err.status === 401) {
            throw new GateError(err.code, err.message, { ...err.headers, 'x-pg-clear-cookies': refreshCookie.mode });
          }
          throw err;
        }
      }
      if (accessError) throw accessError;

      if (config.allowPublicSandboxes && (await sandboxIsPublic(host.target.sandboxId))) {
        return { principal: { userId: 'anonymous', sessionId: '', kind: 'public' }, setCookies: [], authorizationWasOurs: false };
      }
      throw new GateError('missing_credential', 'This preview is private: no access token, cookie or share link came with the request.');
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
