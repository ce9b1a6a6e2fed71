/**
 * The two error shapes of Daytona, written in one place each.
 *  - API (NestJS): `{path, timestamp, statusCode, error, message}` (docs/daytona.md, "The SDK").
 *  - Preview proxy (Go/gin): `{statusCode, message, code, timestamp, path, method}`.
 * The SDK reads `message` (or `error`) and maps the status to its error classes, so the
 * status and `message` are what callers observe.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Proxy error codes as Daytona's proxy spells them. */
export type ProxyErrorCode = 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'INTERNAL_SERVER_ERROR';

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** Writes a JSON body with an exact Content-Length (no chunking for small answers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** An API answer in NestJS's error shape. */
export function sendApiError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, {
    path: req.url ?? '/',
    timestamp: new Date().toISOString(),
    statusCode: status,
    error: reasonPhrase(status),
    message,
  });
}

/** The prefix Daytona's proxy errors carry (its `common_errors` wrap each message with one). */
const PREFIXES: Record<ProxyErrorCode, string> = {
  BAD_REQUEST: 'bad request: ',
  UNAUTHORIZED: 'unauthorized: ',
  FORBIDDEN: 'forbidden: ',
  NOT_FOUND: 'not found: ',
  INTERNAL_SERVER_ERROR: 'internal server error: ',
};

/** A preview-proxy answer in the Go proxy's error shape; `message` gets Daytona's prefix (docs/daytona.md, "Errors"). */
export function proxyErrorBody(req: IncomingMessage, status: number, code: ProxyErrorCode, message: string): object {
  const prefixed = message.startsWith(PREFIXES[code]) ? message : PREFIXES[code] + message;
  return { statusCode: status, message: prefixed, code, timestamp: new Date().toISOString(), path: pathOf(req.url), method: req.method ?? 'GET' };
}

export function sendProxyError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ProxyErrorCode,
  message: string,
  headers: Record<string, string | string[]> = {},
): void {
  sendJson(res, status, proxyErrorBody(req, status, code, message), headers);
}

/** The path without its query: error bodies must never echo a query token back. */
export function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}
