/**
 * Every non-reserved path of a preview origin: answer CORS preflights like Daytona does,
 * authenticate, strip gateway credentials, add the identity assertion, hand the request to
 * the upstream side, and pass its answer back (minus any attempt by the app to set our cookies).
 */
import type { Context } from 'hono';
import { GateError } from '../../protocol/index.js';
import { PV, type GateApp, type GateEnv, type GatewayContext } from './context.js';
import { checkPort } from './http/host.js';
import { hostOf } from './gateway-host.js';
import { forwardRequest, hasGateSetCookie, stripAppSetCookies } from './hygiene.js';
import type { PreviewHost } from './authenticate.js';

export function isReservedPath(pathname: string): boolean {
  let p = pathname;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    /* malformed escapes: judge the raw path */
  }
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
    const auth = await x.authenticator.authenticate(req, host, { renew: true, ticket: false });
    c.set('user', auth.principal.userId);
    if (auth.setCookies.length) c.set('setCookies', [...(c.get('setCookies') ?? []), ...auth.setCookies]);
    if (auth.redirectTo) {
      return new Response(null, { status: 303, headers: { location: auth.redirectTo, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
    }
    const identity = await x.identity(auth.principal, host.origin);
    // The Node edge passes its bindings as env: the client's address for X-Forwarded-For.
    const clientAddress = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
    const upstreamRes = await x.upstream.forward(
      forwardRequest(req, auth.authorizationWasOurs, identity),
      host.target,
      auth.principal,
      clientAddress ? { clientAddress } : undefined,
    );
    // The common case (no app cookie with our names): the answer passes as it is, no copy.
    if (!hasGateSetCookie(upstreamRes.headers)) return upstreamRes;
    // Fetch answers have immutable headers: copy once into a mutable answer.
    const headers = new Headers(upstreamRes.headers);
    stripAppSetCookies(headers);
    return new Response(upstreamRes.body, { status: upstreamRes.status, statusText: upstreamRes.statusText, headers });
  });
}
