/**
 * Every non-reserved path of a preview origin: answer CORS preflights like Daytona does,
 * authenticate, strip gateway credentials, add the identity assertion, hand the request to
 * the upstream side, and pass its answer back (minus any attempt by the app to set our cookies).
 */
import { requestLog } from './ops.js';
import { GateError } from '../../protocol/index.js';
import { PV, type GateApp, type GatewayContext, type RequestScope } from './context.js';
import { checkPort } from './http/host.js';
import { hostOf, urlOf } from './request-host.js';
import { forwardRequest, hasGateSetCookie, privateCacheControl, stripAppSetCookies } from './forward-request.js';
import type { AuthenticateOptions, PreviewHost } from './authenticate.js';
import type { AbortLike, ForwardMeta } from './contracts.js';
import { clientAddressOf } from './http/client-address.js';
import { isReservedPath } from './http/paths.js';
import { appWorkerRequest, isAppWorkerScript, wrapAppWorkerAnswer } from './app-worker.js';
import { presentedOrigin, refusalHinterOf } from './upstream/dev-origin.js';

/**
 * Methods never forwarded: TRACE/TRACK echo the request (credentials included) back to whoever
 * can read the answer (cross-site tracing), and CONNECT asks for a tunnel; the Fetch standard
 * forbids all three. Refused with a coded 405 before anything else.
 */
const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

/**
 * A CORS preflight answered 204 before any credential, exactly as Daytona's proxy does
 * (preflights carry no credentials by design, Fetch §3.2.2), so an app's cross-origin API
 * calls keep working behind the gateway.
 */
function preflight(req: Request): Response | null {
  if (req.method !== 'OPTIONS') return null;
  const origin = req.headers.get('origin');
  const method = req.headers.get('access-control-request-method');
  if (!origin || !method) return null;
  const headers = new Headers({
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': method,
    'access-control-max-age': '600',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  });
  const reqHeaders = req.headers.get('access-control-request-headers');
  if (reqHeaders) headers.set('access-control-allow-headers', reqHeaders);
  return new Response(null, { status: 204, headers });
}

/**
 * The guard of every preview-origin request, /__gate/ included: a reserved or disallowed port is
 * refused (thrown), and a CORS preflight to the app is answered here (returned). Null: go on.
 */
export function previewGuard(x: GatewayContext, s: RequestScope): Response | null {
  const h = hostOf(s.req.raw);
  if (h.kind !== 'preview') throw new GateError('not_found', 'Not a preview origin.');
  checkPort(x.config, h.target.port);
  if (isReservedPath(urlOf(s.req.raw).pathname)) return null;
  return preflight(s.req.raw);
}

export function registerPreviewGuards(app: GateApp, x: GatewayContext): void {
  // Runs before /__gate/ routes and the proxy: a reserved or disallowed port is refused for every path.
  app.use(`${PV}/*`, async (c, next) => {
    const pre = previewGuard(x, c);
    if (pre) return pre;
    await next();
  });
}

export function registerProxy(app: GateApp, x: GatewayContext): void {
  app.all(`${PV}/*`, (c) => proxyPreview(x, c));
}

/**
 * Every non-reserved path of a preview origin, after `previewGuard`: authenticate, strip, forward,
 * clean the answer. Reached through Hono's catch-all (registerProxy) or directly (gateway.ts
 * `handle`, which skips the router for these requests): the same function either way.
 */
export async function proxyPreview(x: GatewayContext, c: RequestScope): Promise<Response> {
  const host = hostOf(c.req.raw) as PreviewHost & { kind: 'preview' };
  const req = c.req.raw;
  const url = urlOf(req);
  const pathname = url.pathname;
  // Reserved paths that the router did not match literally (encoded, doubled slashes, dot
  // segments; case is never folded: http/paths.ts) are still ours: never forwarded, whatever the
  // app server would make of them.
  if (isReservedPath(pathname)) throw new GateError('not_found', 'No such gateway path.');
  if (REFUSED_METHODS.has(req.method.toUpperCase())) {
    throw new GateError('method_not_allowed', `${req.method} is never forwarded to a preview.`, { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' });
  }
  // The client's address, for X-Forwarded-For and the per-client budget of public-sandbox lookups.
  const clientAddress = clientAddressOf(c.env);
  const log = requestLog(x.logger, c);
  const authOptions: AuthenticateOptions = { renew: true, ticket: false, log };
  if (clientAddress) authOptions.clientAddress = clientAddress;
  // A cached access token is decided without a promise; anything else as always (authenticate.ts).
  const auth = x.authenticator.authenticateNow(req, host, authOptions) ?? (await x.authenticator.authenticate(req, host, authOptions));
  c.set('user', auth.principal.userId);
  if (auth.setCookies.length) c.set('setCookies', [...(c.get('setCookies') ?? []), ...auth.setCookies]);
  if (auth.redirectTo) {
    return new Response(null, { status: 303, headers: { location: auth.redirectTo, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
  }
  const assertion = x.identity(auth.principal, host.origin);
  const identity = typeof assertion === 'string' || assertion === null ? assertion : await assertion;
  // X-Forwarded-Proto is the preview origin's scheme; a known dev server's dev endpoint sees
  // the app's own Origin when the browser's is the preview origin (upstream/dev-origin.ts).
  const origin = presentedOrigin({
    enabled: x.config.devServerOrigin,
    kind: 'request',
    pathname,
    origin: req.headers.get('origin'),
    previewOrigin: host.origin,
    port: host.target.port,
  });
  // The app's own Service Worker script is answered wrapped around ours (app-worker.ts).
  const appWorker = isAppWorkerScript(req);
  // The edge's raw header list, when it passes one (broker/node/server.ts): the same fields as req.headers.
  const rawHeaders = (c.env as { rawHeaders?: readonly string[] } | undefined)?.rawHeaders;
  const forwarded = forwardRequest(req, auth.authorizationWasOurs, identity, {
    publicScheme: x.config.publicScheme,
    origin,
    requestId: c.get('requestId'),
    ...(rawHeaders ? { rawHeaders } : {}),
  });
  // The edge's "client went away" hook, when it has one (contracts.ts ForwardMeta.clientAbort).
  const clientAbort = (c.env as { clientAbort?: AbortLike } | undefined)?.clientAbort;
  let meta: ForwardMeta | undefined;
  if (clientAddress || clientAbort) {
    meta = {};
    if (clientAddress) meta.clientAddress = clientAddress;
    if (clientAbort) meta.clientAbort = clientAbort;
  }
  let res = await x.upstream.forward(appWorker ? appWorkerRequest(forwarded) : forwarded, host.target, auth.principal, meta);
  if (res.status >= 400) refusalHinterOf(x.config, x.logger)(pathname, 'request', res.status, host.origin, log);
  if (appWorker) res = await wrapAppWorkerAnswer(res, url, log);
  const appSetsOurCookie = hasGateSetCookie(res.headers);
  // Answers to authenticated requests stay out of shared caches (public sandboxes excepted).
  const cacheControl = auth.principal.kind === 'public' ? null : privateCacheControl(res.headers.get('cache-control'));
  // The common case: the answer passes as it is, no copy.
  if (!appSetsOurCookie && cacheControl === null) return res;
  try {
    if (cacheControl !== null) res.headers.set('cache-control', cacheControl);
  } catch {
    // Fetch answers may have immutable headers: copy once into a mutable answer.
    res = new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
    if (cacheControl !== null) res.headers.set('cache-control', cacheControl);
  }
  if (appSetsOurCookie) {
    const headers = new Headers(res.headers);
    stripAppSetCookies(headers);
    res = new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
  return res;
}
