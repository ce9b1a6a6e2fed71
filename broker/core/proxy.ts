/**
 * Every non-reserved path of a preview origin: answer CORS preflights like Daytona does,
 * authenticate, strip gateway credentials, add the identity assertion, hand the request to
 * the upstream side, and pass its answer back (minus any attempt by the app to set our cookies).
 */
import { clientAddressOf } from './limits/client-address.js';
import type { Context } from 'hono';
import { GateError } from '../../protocol/index.js';
import { PV, type GateApp, type GateEnv, type GatewayContext } from './context.js';
import { checkPort } from './http/host.js';
import { hostOf } from './gateway-host.js';
import { forwardRequest, hasGateSetCookie, privateCacheControl, stripAppSetCookies } from './hygiene.js';
import type { PreviewHost } from './authenticate.js';

/**
 * True for any path an app server could read as the reserved prefix `/__gate` (which the
 * gateway serves and never forwards). The router matches the raw path, so an encoded or
 * oddly written form would otherwise be forwarded: `/__gate%2Fsession`, `//__gate/sw.js`,
 * `/%2F__gate/`, `/__gate%5Csw.js`, `/__gate;x/`, double encoding. Servers differ in how
 * they normalise (Go's net/http and Flask decode %2F, Tomcat drops `;params`), so every such
 * reading counts. Case is not folded: URL paths are case-sensitive (RFC 3986 §6.2.2.1), so
 * `/__GATE/` is the app's own path (it carries no gateway credential there).
 */
export function isReservedPath(pathname: string): boolean {
  let p = pathname;
  for (let i = 0; i < 3; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      break; // malformed escapes: judge what we have
    }
    if (decoded === p) break;
    p = decoded;
  }
  p = p
    .replace(/\\/g, '/')
    .replace(/;[^/]*/g, '')
    .replace(/\/{2,}/g, '/');
  return p === '/__gate' || p.startsWith('/__gate/');
}

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

export function registerPreviewGuards(app: GateApp, x: GatewayContext): void {
  // Runs before /__gate/ routes and the proxy: a reserved or disallowed port is refused for every path.
  app.use(`${PV}/*`, async (c, next) => {
    const h = hostOf(c.req.raw);
    if (h.kind !== 'preview') throw new GateError('not_found', 'Not a preview origin.');
    checkPort(x.config, h.target.port);
    if (!isReservedPath(new URL(c.req.url).pathname)) {
      const pre = preflight(c.req.raw);
      if (pre) return pre;
    }
    await next();
  });
}

export function registerProxy(app: GateApp, x: GatewayContext): void {
  app.all(`${PV}/*`, async (c: Context<GateEnv>) => {
    const host = hostOf(c.req.raw) as PreviewHost & { kind: 'preview' };
    const req = c.req.raw;
    // Reserved paths that the router did not match literally (encoded, doubled slashes, case)
    // are still ours: never forwarded, whatever the app server would make of them.
    if (isReservedPath(new URL(req.url).pathname)) throw new GateError('not_found', 'No such gateway path.');
    // The Node edge passes its bindings as env: the client's address for X-Forwarded-For and
    // the per-client budget of public-sandbox lookups.
    const clientAddress = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
    // Rate limits count by the address resolved through GATE_TRUSTED_PROXIES (limits/client-address.ts).
    const limitAddress = clientAddressOf(c);
    const auth = await x.authenticator.authenticate(req, host, { renew: true, ticket: false, ...(limitAddress ? { clientAddress: limitAddress } : {}) });
    c.set('user', auth.principal.userId);
    if (auth.setCookies.length) c.set('setCookies', [...(c.get('setCookies') ?? []), ...auth.setCookies]);
    if (auth.redirectTo) {
      return new Response(null, { status: 303, headers: { location: auth.redirectTo, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
    }
    const identity = await x.identity(auth.principal, host.origin);
    let res = await x.upstream.forward(
      forwardRequest(req, auth.authorizationWasOurs, identity),
      host.target,
      auth.principal,
      clientAddress ? { clientAddress } : undefined,
    );
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
  });
}
