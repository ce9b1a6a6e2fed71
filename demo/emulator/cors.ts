/**
 * Daytona's preview-proxy CORS (daytona.md, "CORS"): any `Origin` is echoed with
 * `Access-Control-Allow-Credentials: true`; OPTIONS preflights are answered 204 by the proxy,
 * before auth, and never reach the sandbox; `X-Daytona-Disable-CORS: true` turns all of this
 * off (and is stripped). The proxy adds its headers even when the app sets its own, which is
 * the duplicate `Access-Control-Allow-Origin` problem users report.
 */
import type { IncomingMessage } from 'node:http';
import { headerValue } from './headers.js';

export const DISABLE_CORS_HEADER = 'x-daytona-disable-cors';

export function corsDisabled(req: IncomingMessage): boolean {
  return headerValue(req.headers, DISABLE_CORS_HEADER)?.toLowerCase() === 'true';
}

/** Headers added to every proxied or proxy-made answer (flat `[name, value, ...]`). */
export function corsHeaders(req: IncomingMessage): string[] {
  const origin = headerValue(req.headers, 'origin');
  if (!origin || corsDisabled(req)) return [];
  return ['Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true', 'Vary', 'Origin'];
}

/** The 204 answer to a preflight: allows what was asked for. */
export function preflightHeaders(req: IncomingMessage): Record<string, string> {
  const origin = headerValue(req.headers, 'origin') ?? '*';
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': headerValue(req.headers, 'access-control-request-method') ?? 'GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD',
    'access-control-max-age': '86400',
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
  const asked = headerValue(req.headers, 'access-control-request-headers');
  if (asked) headers['access-control-allow-headers'] = asked;
  if (headerValue(req.headers, 'access-control-request-private-network') === 'true') headers['access-control-allow-private-network'] = 'true';
  return headers;
}
