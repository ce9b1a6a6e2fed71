/**
 * The reserved prefix /__gate/ on every preview origin: always answered here, never
 * forwarded; an unknown path under it is a 404. The credential endpoints only accept
 * same-origin requests (Origin absent or equal to the preview origin): a foreign page can
 * neither plant its own session in a victim's browser (login CSRF) nor mint a WebSocket ticket.
 */
import { requestLog } from './ops.js';
import type { Logger } from './contracts.js';
import type { Context } from 'hono';
import { GATE_PATHS, GateError, REFRESH_COOKIE } from '../../protocol/index.js';
import { PV, type GateApp, type GateEnv, type GatewayContext } from './context.js';
import { readJsonObject } from './http/body.js';
import { clearCookies, grantCookies, parseCookies, parseRefreshCookie } from './http/cookies.js';
import { cookieModeOf } from './http/fetch-metadata.js';
import { launchPage, newNonce, pageHeaders } from './http/pages.js';
import type { PreviewHost } from './authenticate.js';
import type { CookieMode } from './store/store.js';
import { hostOf } from './request-host.js';
import { clientAddressOf } from './http/client-address.js';
import type { AuthenticateOptions } from './authenticate.js';
import { launchContextOf } from './limits/launch-binding.js';
import { siblingErrorCors, siblingPortOf } from './tokens/sibling-origins.js';

const NO_STORE = { 'cache-control': 'no-store' };

function previewHost(c: Context<GateEnv>): PreviewHost {
  const h = hostOf(c.req.raw);
  if (h.kind !== 'preview') throw new GateError('not_found', 'Not a preview origin.');
  return h;
}

function sameOrigin(c: Context<GateEnv>, host: PreviewHost): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== host.origin) {
    throw new GateError('origin_forbidden', 'This endpoint only answers pages of the preview origin itself.');
  }
}

/** Options of a credential check on /__gate/*, with the client's address (its own public-lookup budget). */
function authOptions(c: Context<GateEnv>, renew: boolean, logger: Logger): AuthenticateOptions {
  const clientAddress = clientAddressOf(c.env);
  return { renew, ticket: false, ...(clientAddress ? { clientAddress } : {}), log: requestLog(logger, c) };
}

function withCookies(c: Context<GateEnv>, cookies: string[]): void {
  c.set('setCookies', [...(c.get('setCookies') ?? []), ...cookies]);
}

export function registerGatePaths(app: GateApp, x: GatewayContext): void {
  const { config, credentials, authenticator, clock, limits } = x;

  app.get(`${PV}${GATE_PATHS.launch}`, (c) => {
    previewHost(c);
    const nonce = newNonce();
    // pageHeaders: no-store, and Referrer-Policy no-referrer (the URL's fragment holds the code).
    // connect-src also names the preview domain: a several-port grant's bootstrap posts each
    // sibling origin's cookie code there (tokens/sibling-origins.ts; CSP cannot say "this sandbox only").
    const previews = `${config.publicScheme}://*.${config.previewDomain}${config.publicPort == null ? '' : `:${config.publicPort}`}`;
    return c.body(launchPage(cookieModeOf(c.req.raw), nonce, config.pages), 200, pageHeaders(nonce, config.allowedOrigins, config.pages, previews));
  });

  app.post(`${PV}${GATE_PATHS.session}`, async (c) => {
    const host = previewHost(c);
    // A sibling origin's cookie exchange, sent cross-origin by the main origin's bootstrap (several-port grant).
    if (siblingPortOf(config, c.req.header('origin') ?? null, host) !== null) return siblingExchange(c, host);
    sameOrigin(c, host);
    await limits.take('exchange', { address: clientAddressOf(c.env), log: requestLog(x.logger, c) });
    const body = await readJsonObject(c.req.raw, config.maxApiBodyBytes);
    if (typeof body.code !== 'string' || body.code.length > 200) throw new GateError('bad_request', 'code (string) is required.');
    // The bootstrap page's own fetch is same-origin, so Fetch Metadata cannot tell an iframe
    // from a tab here: the page says what it saw (launch page data-cookie-mode, or embedded).
    const mode: CookieMode =
      body.cookieMode === 'partitioned' || body.cookieMode === 'lax' ? body.cookieMode : body.embedded === true ? 'partitioned' : cookieModeOf(c.req.raw);
    const r = await credentials.exchangeCode(body.code, host.origin, mode, launchContextOf(c.req.raw, body));
    c.set('user', r.session.userId);
    withCookies(c, grantCookies(r.cookieGrant, mode, clock()));
    const siblings = r.siblingLaunches.length ? { siblingLaunches: r.siblingLaunches } : {};
    return c.json({ ...r.grant, sessionId: r.session.id, path: r.path, cookieMode: mode, ...siblings }, 200, NO_STORE);
  });

  /**
   * The sibling's cookies (host-only) from its own host; the answer is CORS-readable by the
   * main origin only (credentials: the browser must keep the cookies). Body: `{code, cookieMode}`
   * sent as text/plain so no preflight is needed (preflights never reach /__gate/).
   */
  async function siblingExchange(c: Context<GateEnv>, host: PreviewHost): Promise<Response> {
    await limits.take('exchange', { address: clientAddressOf(c.env), log: requestLog(x.logger, c) });
    const body = await readJsonObject(c.req.raw, config.maxApiBodyBytes);
    if (typeof body.code !== 'string' || body.code.length > 200) throw new GateError('bad_request', 'code (string) is required.');
    const requestOrigin = c.req.header('origin') ?? null;
    const mode: CookieMode = body.cookieMode === 'partitioned' ? 'partitioned' : 'lax';
    const r = await credentials.exchangeSiblingCode(body.code, host.origin, requestOrigin);
    c.set('user', r.session.userId);
    withCookies(c, grantCookies(r.cookieGrant, mode, clock()));
    return c.json({ origin: host.origin, cookieMode: mode }, 200, {
      ...NO_STORE,
      'access-control-allow-origin': requestOrigin!,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
  }

  app.post(`${PV}${GATE_PATHS.refresh}`, async (c) => {
    const host = previewHost(c);
    sameOrigin(c, host);
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    if (bearer) {
      const r = await credentials.refresh(bearer[1]!, host.origin, clientAddressOf(c.env), requestLog(x.logger, c));
      c.set('user', r.session.userId);
      return c.json(r.grant, 200, NO_STORE);
    }
    const cookie = parseRefreshCookie(parseCookies(c.req.header('cookie') ?? null).get(REFRESH_COOKIE));
    if (!cookie) throw new GateError('missing_credential', 'Send the refresh credential as Authorization: Bearer, or with the refresh cookie.');
    try {
      const r = await credentials.refresh(cookie.token, host.origin, clientAddressOf(c.env), requestLog(x.logger, c));
      c.set('user', r.session.userId);
      withCookies(c, grantCookies(r.grant, cookie.mode, clock()));
      // The cookie's credential stays HttpOnly: it is not repeated in the body.
      return c.json({ ...r.grant, refreshToken: '' }, 200, NO_STORE);
    } catch (err) {
      if (err instanceof GateError && err.status === 401) withCookies(c, clearCookies(cookie.mode));
      throw err;
    }
  });

  app.post(`${PV}${GATE_PATHS.logout}`, async (c) => {
    const host = previewHost(c);
    sameOrigin(c, host);
    try {
      const a = await authenticator.authenticate(c.req.raw, host, authOptions(c, false, x.logger));
      if (a.principal.kind !== 'public') await credentials.revokeSession(a.principal.sessionId, clock() + config.refreshTtlMs);
    } catch {
      /* nothing live to end: still clear the cookies */
    }
    const mode = parseRefreshCookie(parseCookies(c.req.header('cookie') ?? null).get(REFRESH_COOKIE))?.mode ?? 'lax';
    withCookies(c, clearCookies(mode));
    return c.body(null, 204, NO_STORE);
  });

  app.post(`${PV}${GATE_PATHS.wsTicket}`, async (c) => {
    const host = previewHost(c);
    sameOrigin(c, host);
    await limits.take('wsTicket', { address: clientAddressOf(c.env), log: requestLog(x.logger, c) });
    const a = await authenticator.authenticate(c.req.raw, host, authOptions(c, true, x.logger));
    withCookies(c, a.setCookies);
    c.set('user', a.principal.userId);
    if (a.principal.kind !== 'public') await limits.take('wsTicket', { user: a.principal.userId, log: requestLog(x.logger, c) });
    if (a.principal.kind === 'public') throw new GateError('bad_request', 'This sandbox is public: its WebSockets need no ticket.');
    // `?port=`: a ticket for another port of a several-port grant (the page's WebSocket to a sibling origin).
    const wanted = c.req.query('port');
    const port = wanted === undefined ? host.target.port : Number(wanted);
    if (port !== host.target.port && !(a.grantPorts ?? []).includes(port))
      throw new GateError('wrong_scope', `This preview's grant does not include port ${String(wanted).slice(0, 10)}.`);
    const t = await credentials.issueTicket({
      sessionId: a.principal.sessionId,
      userId: a.principal.userId,
      kind: a.principal.kind,
      target: { sandboxId: host.target.sandboxId, port },
      ...(a.grantPorts ? { ports: a.grantPorts } : {}),
      ...(a.pathScope ? { pathScope: a.pathScope } : {}),
      ...(a.shareId ? { shareId: a.shareId } : {}),
    });
    return c.json(t, 200, NO_STORE);
  });

  app.get(`${PV}${GATE_PATHS.status}`, async (c) => {
    const host = previewHost(c);
    // Readable by a page of another port of this sandbox: the bootstrap of a several-port grant
    // asks whether the sibling's cookie comes back (tokens/sibling-origins.ts).
    const headers = { ...NO_STORE, ...siblingErrorCors(config, c.req.raw, host) };
    try {
      const a = await authenticator.authenticate(c.req.raw, host, authOptions(c, false, x.logger));
      return c.json({ authenticated: true, kind: a.principal.kind, userId: a.principal.userId }, 200, headers);
    } catch (err) {
      return c.json({ authenticated: false, code: err instanceof GateError ? err.code : 'internal' }, 200, headers);
    }
  });

  const script =
    (pick: (a: NonNullable<GatewayContext['assets']>) => string | undefined, extra: Record<string, string> = {}) =>
    (c: Context<GateEnv>) => {
      previewHost(c);
      const js = x.assets ? pick(x.assets) : undefined;
      if (js === undefined)
        return c.text('/* preview-gate: assets not built; run `npm run build` */', 503, {
          'content-type': 'text/javascript; charset=utf-8',
          'retry-after': '10',
        });
      return c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...extra });
    };
  app.get(
    `${PV}${GATE_PATHS.serviceWorker}`,
    script((a) => a.serviceWorker, { 'service-worker-allowed': '/' }),
  );
  app.get(
    `${PV}${GATE_PATHS.bootstrapScript}`,
    script((a) => a.bootstrap),
  );
  // The WebSocket wrapper the worker adds to the app's pages on the cookie-less path (ARCHITECTURE.md flow 12).
  app.get(
    `${PV}${GATE_PATHS.wsShim}`,
    script((a) => a.wsShim),
  );

  const reservedNotFound = () => {
    throw new GateError('not_found', 'No such gateway path: /__gate/ is reserved by the preview gateway and never reaches the app.');
  };
  app.all(`${PV}/__gate`, reservedNotFound);
  app.all(`${PV}/__gate/*`, reservedNotFound);
}
