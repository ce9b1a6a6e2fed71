/**
 * The preview proxy's decision for one request (HTTP or WebSocket upgrade), as an ordered list
 * of Daytona's steps: port range → warning page → sandbox and auth → sandbox state → port app.
 * (OPTIONS preflights and the warning-acceptance endpoint are answered earlier, in proxy.ts.)
 * The result is either an answer the proxy writes itself or where and how to forward.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { AUTH_QUERY, authenticate, PREVIEW_TOKEN_HEADER, type AuthDeps } from './auth.js';
import { DISABLE_CORS_HEADER } from './cors.js';
import { proxyErrorBody, type ProxyErrorCode } from './errors.js';
import { forwardableHeaders, headerValue, removeQueryParam } from './headers.js';
import type { SandboxRecord } from './sandboxes.js';
import { isValidPort, type PreviewHost } from './host.js';
import { authRedirect } from './idp.js';
import type { Upstream } from './ports.js';
import { shouldWarn, warningPage } from './warning.js';

export interface DecideDeps extends AuthDeps {
  warningPage: boolean;
  /** Origin of the emulated identity provider, e.g. `http://127.0.0.1:4000`. */
  idpOrigin: string;
  /** Unknown/expired signed token: `'redirect'` (307, v0.190 source) or `'unauthorized'` (401 JSON, production 2026). */
  signedTokenRejection: 'redirect' | 'unauthorized';
}

export type Verdict =
  | { kind: 'respond'; status: number; headers: Record<string, string>; body: string; rejected: boolean }
  | {
      kind: 'forward';
      upstream: Upstream;
      path: string;
      headers: OutgoingHttpHeaders;
      responseHeaders: string[];
      sandboxPort: number;
      /** The sandbox, and whether its last activity is refreshed while the connection stays open. */
      sandbox: SandboxRecord;
      refreshActivity: boolean;
    };

function error(req: IncomingMessage, status: number, code: ProxyErrorCode, message: string, headers: Record<string, string> = {}): Verdict {
  return {
    kind: 'respond',
    status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(proxyErrorBody(req, status, code, message)),
    rejected: true,
  };
}

/** docs/daytona.md, "Forwarding": the one header that stops the proxy from refreshing last activity. */
export const SKIP_ACTIVITY_HEADER = 'x-daytona-skip-last-activity-update';

export function decide(deps: DecideDeps, req: IncomingMessage, host: PreviewHost, isUpgrade: boolean): Verdict {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const search = q === -1 ? '' : rawUrl.slice(q);
  const query = new URLSearchParams(search);

  if (!isValidPort(host.port)) return error(req, 400, 'BAD_REQUEST', 'Invalid port');
  if (deps.warningPage && shouldWarn(req, host.port, isUpgrade)) {
    return {
      kind: 'respond',
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      body: warningPage(rawUrl),
      rejected: false,
    };
  }

  const outcome = authenticate(deps, req, host, query);
  if (outcome.kind === 'signed-invalid' && deps.signedTokenRejection === 'unauthorized') {
    // Production in 2026 (docs/daytona.md): exactly this body, no statusCode/timestamp fields.
    const body = JSON.stringify({ message: 'unauthorized: authentication failed: Invalid or expired token', code: 'UNAUTHORIZED' });
    return { kind: 'respond', status: 401, headers: { 'content-type': 'application/json; charset=utf-8' }, body, rejected: true };
  }
  if (outcome.kind === 'unauthenticated' || outcome.kind === 'signed-invalid') {
    // Missing, wrong and rotated tokens all look the same: a 307 to the identity provider.
    const redirect = authRedirect(deps.idpOrigin, `http://${req.headers.host ?? host.hostname}`, rawUrl);
    return { kind: 'respond', status: 307, headers: { location: redirect.location, 'set-cookie': redirect.setCookie }, body: '', rejected: true };
  }
  const sandbox = outcome.sandbox;
  const refreshActivity = headerValue(req.headers, SKIP_ACTIVITY_HEADER)?.toLowerCase() !== 'true';
  if (refreshActivity) deps.store.touch(sandbox);
  // docs/daytona.md, "States": an archived sandbox has no runner to ask for an IP; every other
  // state but started (stopped, paused, resuming, starting, ...) has no IP address.
  if (sandbox.state === 'archived' || sandbox.state === 'archiving' || sandbox.state === 'restoring') {
    return error(req, 400, 'BAD_REQUEST', `failed to get runner info: Sandbox with ID ${sandbox.id} does not have a runner`);
  }
  if (sandbox.state !== 'started') return error(req, 400, 'BAD_REQUEST', 'no IP address found. Is the Sandbox started?');
  // docs/daytona.md, "Caching": runner info is cached 2 min, so a sandbox moved to another runner
  // answers this 404 for a moment although it exists.
  if (sandbox.movingUntil > Date.now()) return error(req, 404, 'NOT_FOUND', 'sandbox container not found');
  const upstream = sandbox.apps.upstream(host.port);
  // The app port is not listening: Daytona answers a bare 502.
  if (!upstream) return { kind: 'respond', status: 502, headers: {}, body: '', rejected: true };

  const headers = forwardableHeaders(req.rawHeaders);
  delete headers[DISABLE_CORS_HEADER];
  // docs/daytona.md, "What reaches the app": the auth middleware is the only stripper of
  // Daytona's credentials and it runs only for private sandboxes and reserved ports. On a public
  // sandbox's ordinary port the token header, Authorization and the query key reach the app.
  const middlewareRan = outcome.method !== 'public';
  if (middlewareRan) delete headers[PREVIEW_TOKEN_HEADER];
  if (outcome.method === 'api-key') delete headers.authorization;
  // Daytona's own cookies (auth cookie, pkce_verifier, warning acceptance) are not removed.
  // docs/daytona.md: X-Forwarded-Host is appended to an existing one; the app sees Host: localhost:{port}.
  const forwardedHost = headers['x-forwarded-host'];
  headers['x-forwarded-host'] = [...[forwardedHost ?? []].flat().map(String), req.headers.host ?? host.hostname];
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = [...[forwardedFor ?? []].flat().map(String), req.socket.remoteAddress ?? '127.0.0.1'];
  // Go's ReverseProxy sets no X-Forwarded-Proto: a client's value passes through untouched.
  headers.host = `localhost:${host.port}`;
  if (isUpgrade) {
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
  }
  const forwardSearch = outcome.method === 'query' ? removeQueryParam(search, AUTH_QUERY) : search;
  return {
    kind: 'forward',
    upstream,
    path: upstream.pathPrefix + path + forwardSearch,
    headers,
    responseHeaders: outcome.setCookie ? ['Set-Cookie', outcome.setCookie] : [],
    sandboxPort: host.port,
    sandbox,
    refreshActivity,
  };
}
