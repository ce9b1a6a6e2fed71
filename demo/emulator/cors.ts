/**
 * Daytona's preview-proxy CORS (docs/daytona.md, "Warning page, CORS, activity"): any `Origin` is echoed with
 * `Access-Control-Allow-Credentials: true`; OPTIONS with a cross-origin `Origin` are answered
 * 204 by the proxy, before auth, and never reach the sandbox (without one, or same-origin, they
 * go on to auth and the app); `X-Daytona-Disable-CORS: true` turns all of this
 * off (and is stripped). The proxy adds its headers even when the app sets its own, which is
 * the duplicate `Access-Control-Allow-Origin` problem users report.
 */
import type { IncomingMessage } from 'node:http';
import { headerValue } from './headers.js';

export const DISABLE_CORS_HEADER = 'x-daytona-disable-cors';

export function corsDisabled(req: IncomingMessage): boolean {
  return headerValue(req.headers, DISABLE_CORS_HEADER)?.toLowerCase() === 'true';
}

/** Whether `origin` names the request's own host (gin-contrib/cors skips same-origin requests). */
function sameOrigin(req: IncomingMessage, origin: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/** Headers added to every proxied or proxy-made answer (flat `[name, value, ...]`); none unless cross-origin. */
export function corsHeaders(req: IncomingMessage): string[] {
  const origin = headerValue(req.headers, 'origin');
  if (!origin || corsDisabled(req) || sameOrigin(req, origin)) return [];
  return ['Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true', 'Vary', 'Origin'];
}

/** The 204 answer to a preflight: allows what was asked for. */
export function preflightHeaders(req: IncomingMessage): Record<string, string> {
  const origin = headerValue(req.headers, 'origin') ?? '*';
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS',
    'access-control-max-age': '43200',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
  const asked = headerValue(req.headers, 'access-control-request-headers');
  if (asked) headers['access-control-allow-headers'] = asked;
  if (headerValue(req.headers, 'access-control-request-private-network') === 'true') headers['access-control-allow-private-network'] = 'true';
  return headers;
}
