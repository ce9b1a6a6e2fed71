/**
 * Who is asking, on a preview origin. The credential chain, in order:
 *  1. an access token in `X-Daytona-Preview-Token`, or in `Authorization: Bearer` when it is one
 *     of ours (else the header is the app's and passes through);
 *  2. a share-link token in `?__gate_share=` (browsers exchange it for cookies, programs are served);
 *  3. a single-use WebSocket ticket in `?__gate_ticket=` (upgrades only);
 *  4. the access cookie; when it is missing or expired and the refresh cookie is live, a
 *     server-side renewal (fresh cookies on the answer; upgrades only peek, see credentials.ts).
 *     Cookies count only on requests `cookiesAccepted` admits (http/fetch-metadata.ts);
 *  5. a sandbox its owner made public in Daytona (public-lookups.ts: cached, under a budget).
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
import type { Clock, DaytonaPort, Logger, Principal } from './contracts.js';
import type { ResolvedConfig } from './config.js';
import type { Credentials } from './credentials.js';
import type { Store } from './store/store.js';
import type { GateAccessClaims, Tokens } from './tokens/tokens.js';
import { endedShare, grantCookies, parseCookies, parseRefreshCookie, shareEndCookie } from './http/cookies.js';
import { cookieModeOf, cookiesAccepted, isNavigation } from './http/fetch-metadata.js';
import { inScope, scopeOf } from './http/paths.js';
import { SessionEndedError } from './http/respond.js';
import { stripGateQuery } from './forward-request.js';
import { createPublicLookups } from './public-lookups.js';
import { createSecretRecogniser } from './gate-secrets.js';
import { grantIncludes, siblingPortOf } from './tokens/sibling-origins.js';
import { urlOf } from './request-host.js';

// Kept importable from here: the rules moved to http/fetch-metadata.ts and public-lookups.ts.
export { cookiesAccepted, isNavigation } from './http/fetch-metadata.js';
export { NOT_PUBLIC_CACHE_TTL_MS, PUBLIC_CACHE_TTL_MS, PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND, PUBLIC_LOOKUPS_PER_SECOND } from './public-lookups.js';

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
  /** The Authorization header carries a credential of ours (whichever authenticated): strip it before forwarding. */
  authorizationWasOurs: boolean;
  /** A browser followed a share link: 303 here (the same URL without the token). */
  redirectTo?: string;
  /** Every port of a several-port grant (tokens/sibling-origins.ts); absent for one port. */
  grantPorts?: number[];
}

export interface AuthenticateOptions {
  /** Allow server-side renewal through the refresh cookie (false: upgrades peek instead). */
  renew: boolean;
  /** Accept a WebSocket ticket. */
  ticket: boolean;
  /**
   * The client's network address, as the runtime edge sees it (http/client-address.ts): gives
   * each client its own share of the public-sandbox lookup budget. Every entry point passes it
   * (proxy.ts, gate-paths.ts, upgrade.ts).
   */
  clientAddress?: string;
  /** The request's logger (ops.ts `requestLog`): a refresh-reuse line carries the request's `rid`. */
  log?: Logger;
}

export interface AuthenticatorDeps {
  config: ResolvedConfig;
  store: Store;
  tokens: Tokens;
  credentials: Credentials;
  daytona: DaytonaPort;
  clock: Clock;
}

/** What a credential resolves to; `granted` turns it into an `Authenticated`. */
interface Holder {
  userId: string;
  sessionId: string;
  kind: Principal['kind'];
  pathScope?: string | undefined;
  shareId?: string | undefined;
  ports?: number[] | undefined;
}

function granted(h: Holder, extra: Partial<Authenticated> = {}): Authenticated {
  return {
    principal: { userId: h.userId, sessionId: h.sessionId, kind: h.kind },
    ...(h.pathScope ? { pathScope: h.pathScope } : {}),
    ...(h.shareId ? { shareId: h.shareId } : {}),
    ...(h.ports ? { grantPorts: h.ports } : {}),
    setCookies: [],
    authorizationWasOurs: false,
    ...extra,
  };
}

/** Requests `authenticateNow` decided (test/unit/gateway-verify-cache.test.ts proves the hot path takes it). */
export const authenticateStats = { now: 0 };

export function createAuthenticator(d: AuthenticatorDeps) {
  const { config, store, tokens, credentials, daytona, clock } = d;
  const lookups = createPublicLookups(daytona, clock);
  const carriesGateSecret = createSecretRecogniser(store, clock);

  function checkScope(c: { aud: string; sbx: string; port: number }, host: PreviewHost, what: string): void {
    if (c.aud !== host.origin || c.sbx !== host.target.sandboxId || c.port !== host.target.port) {
      throw new GateError('wrong_scope', `This ${what} is for another sandbox or port, not ${host.origin}.`);
    }
  }

  function checkPath(pathname: string, scope: string | undefined): void {
    if (scope && !inScope(pathname, scope)) throw new GateError('wrong_scope', `This link only opens pages under ${scope}.`);
  }

  /** What an access token's claims grant, once every check passed. */
  const accessGranted = (c: GateAccessClaims): Authenticated =>
    granted({ userId: c.sub, sessionId: c.sid, kind: c.knd === 'share' ? 'share' : 'session', pathScope: c.pth, shareId: c.shr, ports: c.grp });

  /** An access token for this host and path, including revocation. */
  async function fromAccessToken(token: string, host: PreviewHost, pathname: string): Promise<Authenticated> {
    const c = await tokens.verifyAccess(token);
    checkScope(c, host, 'access token');
    if (await store.isRevoked(`sid:${c.sid}`)) throw new GateError('session_revoked', 'This preview session was ended.');
    if (c.shr && (await store.isRevoked(`shr:${c.shr}`))) throw new GateError('share_revoked', 'This share link was revoked by the person who shared it.');
    checkPath(pathname, c.pth);
    return accessGranted(c);
  }

  /**
   * `fromAccessToken` decided without waiting: the token's verification is remembered
   * (tokens.ts `peekAccess`), the store knows in the process that neither its session nor its
   * share is revoked (store.ts `isRevokedNow`), and scope and path pass. Anything else, a
   * refusal included, is undefined: `fromAccessToken` then decides, and refuses with its code.
   */
  function accessTokenNow(token: string, host: PreviewHost, pathname: string): Authenticated | undefined {
    const c = tokens.peekAccess(token);
    if (c === undefined || store.isRevokedNow === undefined) return undefined;
    if (c.aud !== host.origin || c.sbx !== host.target.sandboxId || c.port !== host.target.port) return undefined;
    if (store.isRevokedNow(`sid:${c.sid}`) !== false) return undefined;
    if (c.shr && store.isRevokedNow(`shr:${c.shr}`) !== false) return undefined;
    if (c.pth && !inScope(pathname, c.pth)) return undefined;
    return accessGranted(c);
  }

  async function fromShare(token: string, req: Request, url: URL, host: PreviewHost): Promise<Authenticated> {
    const claims = await tokens.verifyShare(token);
    checkScope(claims, host, 'share link');
    const share = await credentials.checkShareLive(claims.shr);
    const scope = share.path ? scopeOf(share.path) : undefined;
    checkPath(url.pathname, scope);
    await store.touchShare(share.id, clock());
    const holder = { userId: `share:${share.id}`, sessionId: share.id, kind: 'share' as const, pathScope: scope, shareId: share.id };
    if (!(isNavigation(req) && req.method === 'GET')) return granted(holder);
    // A browser: exchange for cookies and take the token out of the address bar (and history).
    const mode = cookieModeOf(req);
    const { cookieGrant } = await credentials.openShareSession(share, host.origin, mode);
    const setCookies = [...grantCookies(cookieGrant, mode, clock()), shareEndCookie(share.expiresAt, mode, clock())];
    return granted(holder, { setCookies, redirectTo: host.origin + stripGateQuery(url.pathname + url.search) });
  }

  async function fromTicket(ticket: string, host: PreviewHost, pathname: string): Promise<Authenticated> {
    const t = await credentials.consumeTicket(ticket);
    if (!t) throw new GateError('invalid_token', 'This WebSocket ticket is unknown, already used or expired (tickets work once, for 30 seconds).');
    if (t.sandboxId !== host.target.sandboxId || t.port !== host.target.port)
      throw new GateError('wrong_scope', 'This WebSocket ticket is for another sandbox or port.');
    if (await store.isRevoked(`sid:${t.sessionId}`)) throw new GateError('session_revoked', 'This preview session was ended.');
    if (t.shareId) await credentials.checkShareLive(t.shareId);
    checkPath(pathname, t.pathScope);
    return granted(t);
  }

  /**
   * Steps 4 (cookies) of the chain; null when no cookie credential came. `siblingPort`: the
   * request came from a page of another port of this sandbox (tokens/sibling-origins.ts): the
   * cookie counts only when its grant includes that port, and it is judged BEFORE any rotation
   * (a cookie ignored after rotating would lose the rotated credential and look stolen later).
   */
  async function fromCookies(
    req: Request,
    host: PreviewHost,
    pathname: string,
    opts: AuthenticateOptions,
    siblingPort?: number,
  ): Promise<Authenticated | null> {
    const cookies = parseCookies(req.headers.get('cookie'));
    const accessCookie = cookies.get(ACCESS_COOKIE);
    const refreshCookie = parseRefreshCookie(cookies.get(REFRESH_COOKIE));
    const forSibling = (a: Authenticated) => siblingPort === undefined || grantIncludes(a.grantPorts, siblingPort);
    if (accessCookie) {
      try {
        const a = await fromAccessToken(accessCookie, host, pathname);
        return forSibling(a) ? a : null;
      } catch (err) {
        // Only an expired or unreadable token is renewable; revoked or out of scope is final.
        const code = err instanceof GateError ? err.code : 'internal';
        if (!refreshCookie || (code !== 'token_expired' && code !== 'invalid_token')) throw err;
      }
    }
    if (!refreshCookie) return null;
    if (siblingPort !== undefined && !grantIncludes((await credentials.peekRefresh(refreshCookie.token, host.origin, opts.log)).ports, siblingPort))
      return null;
    if (!opts.renew) {
      const s = await credentials.peekRefresh(refreshCookie.token, host.origin, opts.log);
      checkPath(pathname, s.pathScope);
      return granted({ ...s, sessionId: s.id });
    }
    try {
      const { grant, session } = await credentials.refresh(refreshCookie.token, host.origin, opts.clientAddress, opts.log);
      checkPath(pathname, session.pathScope);
      return granted({ ...session, sessionId: session.id }, { setCookies: grantCookies(grant, refreshCookie.mode, clock()) });
    } catch (err) {
      // A dead session: tell the browser to forget its cookies along with the error. A share's
      // session that ended with its share says so (the share-end marker, http/cookies.ts).
      if (err instanceof GateError && err.status === 401) {
        const shareOver = err.code === 'invalid_session' && endedShare(req.headers.get('cookie'), clock());
        throw new SessionEndedError(shareOver ? new GateError('share_expired', 'This share link has expired.') : err, refreshCookie.mode);
      }
      throw err;
    }
  }

  /** The chain itself (see the header). */
  async function resolve(req: Request, host: PreviewHost, opts: AuthenticateOptions): Promise<Authenticated> {
    const url = urlOf(req);
    const pathname = url.pathname;
    const headerToken = req.headers.get(PREVIEW_TOKEN_HEADER);
    if (headerToken !== null) return fromAccessToken(headerToken.trim(), host, pathname);
    const authz = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
    if (authz && tokens.isOurs(authz[1]!, TOKEN_TYPES.access)) return { ...(await fromAccessToken(authz[1]!, host, pathname)), authorizationWasOurs: true };
    const share = url.searchParams.get(SHARE_QUERY);
    if (share !== null) return fromShare(share, req, url, host);
    const ticket = opts.ticket ? url.searchParams.get(WS_TICKET_QUERY) : null;
    if (ticket !== null) return fromTicket(ticket, host, pathname);
    // Sibling-preview CSRF: cookies from a cross-origin, non-navigation request are ignored,
    // except from a page of another port the cookie's own grant includes (tokens/sibling-origins.ts).
    const cookiesOk = cookiesAccepted(req);
    const siblingPort = cookiesOk || req.headers.get('sec-fetch-site') !== 'same-site' ? null : siblingPortOf(config, req.headers.get('origin'), host);
    const fromCookie = cookiesOk
      ? await fromCookies(req, host, pathname, opts)
      : siblingPort !== null
        ? await fromCookies(req, host, pathname, opts, siblingPort)
        : null;
    if (fromCookie) return fromCookie;
    if (config.allowPublicSandboxes && (await lookups.sandboxIsPublic(host.target.sandboxId, opts.clientAddress))) {
      return granted({ userId: 'anonymous', sessionId: '', kind: 'public' });
    }
    if (!cookiesOk && req.headers.has('cookie')) {
      throw new GateError(
        'missing_credential',
        'This preview is private, and its cookies count only on requests from the preview itself or navigations (Sec-Fetch-Site), not from another site or preview.',
      );
    }
    // A browser that followed a share link which has since ended: say so, not "private".
    if (cookiesOk && endedShare(req.headers.get('cookie'), clock())) throw new GateError('share_expired', 'This share link has expired.');
    throw new GateError('missing_credential', 'This preview is private: no access token, cookie or share link came with the request.');
  }

  return {
    sandboxIsPublic: lookups.sandboxIsPublic,

    /**
     * The usual request of a dev loop decided without a promise: an access token, in the header
     * or the access cookie, that `resolve` would take first and whose every check passes now
     * (`accessTokenNow`); no Authorization header (`authenticate` would look into it), no share
     * link, no ticket. Undefined for anything else, and for every refusal: `authenticate` then
     * decides as always. A promise per step was ~2% of a small proxied request
     * (docs/benchmarks.md, "Round 8"); `authenticateStats.now` counts the requests decided here.
     */
    authenticateNow(req: Request, host: PreviewHost, opts: AuthenticateOptions): Authenticated | undefined {
      if (req.headers.get('authorization') !== null) return undefined;
      const url = urlOf(req);
      const headerToken = req.headers.get(PREVIEW_TOKEN_HEADER);
      let a: Authenticated | undefined;
      if (headerToken !== null) a = accessTokenNow(headerToken.trim(), host, url.pathname);
      else {
        // The same reads as `resolve`: a share link or a ticket in the query goes before cookies.
        const query = url.search === '' ? null : url.searchParams;
        if (query !== null && (query.get(SHARE_QUERY) !== null || (opts.ticket && query.get(WS_TICKET_QUERY) !== null))) return undefined;
        if (!cookiesAccepted(req)) return undefined;
        const accessCookie = parseCookies(req.headers.get('cookie')).get(ACCESS_COOKIE);
        if (accessCookie) a = accessTokenNow(accessCookie, host, url.pathname);
      }
      if (a !== undefined) authenticateStats.now++;
      return a;
    },

    /**
     * Resolves the caller or throws the coded reason. Whatever credential authenticated, an
     * Authorization header that carries ANY credential of ours (a refresh credential, a share
     * token, a ticket, a launch code) is marked for stripping (gate-secrets.ts).
     */
    async authenticate(req: Request, host: PreviewHost, opts: AuthenticateOptions): Promise<Authenticated> {
      const a = await resolve(req, host, opts);
      const authorization = req.headers.get('authorization');
      // Most requests carry none: no lookup, and no promise to wait for.
      if (!a.authorizationWasOurs && authorization !== null && (await carriesGateSecret(authorization))) a.authorizationWasOurs = true;
      return a;
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
