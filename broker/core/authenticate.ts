/**
 * Who is asking, on a preview origin. The credential paths, in order:
 *  1. an access token in `X-Daytona-Preview-Token` or `Authorization: Bearer` (Service Worker, programs);
 *  2. a share-link token in `?__gate_share=` (browsers exchange it for cookies, programs are served);
 *  3. a single-use WebSocket ticket in `?__gate_ticket=` (upgrades only);
 *  4. the access cookie; when it is missing or expired and the refresh cookie is live, a
 *     server-side renewal (fresh cookies on the answer; upgrades only peek, see credentials.ts).
 *     Cookies count only on requests `cookiesAccepted` admits (sibling-preview CSRF, below);
 *  5. a sandbox its owner made public in Daytona (cached lookups under a budget, below).
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
  /**
   * The client's network address, when the runtime edge knows it: gives each client its own
   * share of the public-sandbox lookup budget. Not yet passed by proxy.ts / server.ts.
   */
  clientAddress?: string;
}

export interface AuthenticatorDeps {
  config: ResolvedConfig;
  store: Store;
  tokens: Tokens;
  credentials: Credentials;
  daytona: DaytonaPort;
  clock: Clock;
}

/** Uncached Daytona lookups per second for credential-less requests (public sandboxes), all clients together. */
export const PUBLIC_LOOKUPS_PER_SECOND = 20;
/** The same, per client address, when the caller passes one (`AuthenticateOptions.clientAddress`). */
export const PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND = 5;
/** How long a sandbox found public is served without asking Daytona again (turning it private takes effect within this). */
export const PUBLIC_CACHE_TTL_MS = 30_000;
/** How long "not public" (private, or no such sandbox: made-up ids) is remembered. */
export const NOT_PUBLIC_CACHE_TTL_MS = 10_000;
/** Entries per cache (known-public ids, not-public ids) and clients tracked; the oldest go first. */
const LOOKUP_CACHE_MAX = 10_000;

/**
 * Whether the gateway's access/refresh COOKIES may authenticate this request.
 *
 * Threat: sibling-preview CSRF. Every preview origin ({port}-{sandbox}.{previewDomain}) is on one
 * site, so another user's sandbox app is SAME-SITE to this preview and the browser sends our
 * `SameSite=Lax` cookies on its requests; the gateway also answers CORS preflights as Daytona
 * does (any Origin, credentials allowed), so a sibling could send credentialed, preflighted
 * requests (PUT, JSON POST, ...) into the victim's app. Fetch Metadata tells us who initiated:
 * cookies count only when `Sec-Fetch-Site` is absent (programs, older browsers), `same-origin`
 * (the preview page itself, its Service Worker, its WebSockets) or `none` (typed URL, bookmark),
 * or for a GET/HEAD navigation (`Sec-Fetch-Mode: navigate`: the host IDE page's cross-site
 * iframe loading the preview, a top-level link; like SameSite=Lax, a navigation is a read).
 * Otherwise the cookies are treated as absent, so the request goes on with no credential (a
 * public sandbox is still served as such). Header tokens, share links and WebSocket tickets
 * are not ambient and are unaffected. The same rule holds on WebSocket upgrades (upgrade.ts
 * calls this authenticator; `Sec-Fetch-Mode: websocket` is never a navigation).
 */
export function cookiesAccepted(req: Request): boolean {
  const site = req.headers.get('sec-fetch-site');
  if (site === null || site === 'same-origin' || site === 'none') return true;
  return (req.method === 'GET' || req.method === 'HEAD') && req.headers.get('sec-fetch-mode') === 'navigate';
}

/** True for a browser navigation (Fetch Metadata, or an HTML-accepting GET from an older client). */
export function isNavigation(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers.get('sec-fetch-mode');
  if (mode) return mode === 'navigate';
  return /\btext\/html\b/.test(req.headers.get('accept') ?? '');
}

/** A map used as a bounded cache: at the bound, the oldest entry is dropped. */
function putBounded<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  if (map.size >= LOOKUP_CACHE_MAX) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

export function createAuthenticator(d: AuthenticatorDeps) {
  const { config, store, tokens, credentials, daytona, clock } = d;
  // Credential-less requests may be for public sandboxes, which only Daytona knows. Made-up
  // sandbox ids must neither turn into unbounded Daytona API calls nor starve real public
  // sandboxes of lookups:
  //  - known-public ids and not-public ids (private or unknown) are cached in SEPARATE bounded
  //    maps, so a flood of made-up ids can evict only other not-public entries, never a
  //    known-public one; concurrent lookups of one id share one call;
  //  - at most PUBLIC_LOOKUPS_PER_SECOND uncached lookups (and PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND
  //    per client address, when the caller knows it); past that, and when Daytona cannot be
  //    asked, the answer is 503 `daytona_unavailable` with Retry-After: retryable, never a
  //    misleading "this preview is private" 401, and nothing is cached.
  // The Node edge knows the client's address but the proxy does not pass it yet (see
  // AuthenticateOptions.clientAddress): until it does, the budget is global only.
  const knownPublic = new Map<string, number>(); // id → until
  const notPublic = new Map<string, number>(); // id → until
  const inFlight = new Map<string, Promise<boolean>>();
  const clientWindows = new Map<string, { start: number; count: number }>();
  let windowStart = 0;
  let lookups = 0;

  const overBudget = (what: string) =>
    new GateError('daytona_unavailable', `Too many ${what} lookups of unknown sandboxes right now; try again in a moment.`, { 'retry-after': '1' });

  function takeBudget(clientAddress: string | undefined): void {
    const now = clock();
    if (clientAddress) {
      let w = clientWindows.get(clientAddress);
      if (!w || now - w.start >= 1000) {
        w = { start: now, count: 0 };
        putBounded(clientWindows, clientAddress, w);
      }
      if (w.count >= PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND) throw overBudget('public-sandbox');
      w.count++;
    }
    if (now - windowStart >= 1000) {
      windowStart = now;
      lookups = 0;
    }
    if (lookups >= PUBLIC_LOOKUPS_PER_SECOND) throw overBudget('public-sandbox');
    lookups++;
  }

  async function lookup(id: string): Promise<boolean> {
    let info: SandboxInfo | null;
    try {
      info = await daytona.getSandbox(id);
    } catch {
      throw new GateError('daytona_unavailable', 'Daytona could not be asked whether this sandbox is public; try again in a moment.', { 'retry-after': '2' });
    }
    const isPublic = info?.public === true;
    if (isPublic) {
      notPublic.delete(id);
      putBounded(knownPublic, id, clock() + PUBLIC_CACHE_TTL_MS);
    } else {
      knownPublic.delete(id);
      putBounded(notPublic, id, clock() + NOT_PUBLIC_CACHE_TTL_MS);
    }
    return isPublic;
  }

  /** True when Daytona says the sandbox is public; throws `daytona_unavailable` (503) when it cannot tell now. */
  async function sandboxIsPublic(id: string, clientAddress?: string): Promise<boolean> {
    const now = clock();
    const pub = knownPublic.get(id);
    if (pub !== undefined && pub > now) return true;
    const priv = notPublic.get(id);
    if (priv !== undefined && priv > now) return false;
    const pending = inFlight.get(id);
    if (pending) return pending;
    takeBudget(clientAddress);
    const p = lookup(id).finally(() => inFlight.delete(id));
    inFlight.set(id, p);
    return p;
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

      // Sibling-preview CSRF: cookies from a cross-origin, non-navigation request are ignored.
      const cookiesOk = cookiesAccepted(req);
      const cookies = cookiesOk ? parseCookies(req.headers.get('cookie')) : new Map<string, string>();
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
          const { grant, session } = await credentials.refresh(refreshCookie.token, host.origin, opts.clientAddress);
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

      if (config.allowPublicSandboxes && (await sandboxIsPublic(host.target.sandboxId, opts.clientAddress))) {
        return { principal: { userId: 'anonymous', sessionId: '', kind: 'public' }, setCookies: [], authorizationWasOurs: false };
      }
      if (!cookiesOk && req.headers.has('cookie')) {
        throw new GateError('missing_credential', 'This preview is private, and its cookies count only on requests from the preview itself or navigations (Sec-Fetch-Site), not from another site or preview.');
      }
      throw new GateError('missing_credential', 'This preview is private: no access token, cookie or share link came with the request.');
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
