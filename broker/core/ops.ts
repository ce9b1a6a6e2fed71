/**
 * What operators and integrators see of a request: its id (X-Request-Id, accepted from the
 * client or a proxy in front, else generated; passed to the sandbox app and answered back),
 * the client's address, the one log line per request (with the refusal's code and reason), the
 * version in /healthz, /metrics behind a bearer token, and the origin diagnosis for host pages
 * missing from GATE_ALLOWED_ORIGINS (logged once per origin, readable through /api/cors-check).
 */
import { GateError } from '../../protocol/index.js';
import { GW, type GateApp, type GatewayContext, type RequestScope } from './context.js';
import type { Logger } from './contracts.js';
import { childLogger } from './logger.js';
import { base64url } from 'jose';
import { clientAddressOf } from './http/client-address.js';
import { urlOf } from './request-host.js';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Ids we repeat in logs and headers: printable, short, no spaces or quotes. */
const REQUEST_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/** The client's X-Request-Id when usable, else a fresh one. */
export function requestIdOf(req: Request): string {
  const v = req.headers.get(REQUEST_ID_HEADER);
  return v !== null && REQUEST_ID.test(v) ? v : freshRequestId();
}

/**
 * Request ids drawn 512 at a time: one getRandomValues call per id was ~2% of a proxied request,
 * and one base64url encoding per id ~1%. 12 random bytes are exactly 16 base64url characters
 * (12 is a multiple of 3), so slicing the encoding of 512 × 12 bytes into 16-character pieces
 * gives each id exactly the encoding of its own 12 bytes.
 */
const ID_BYTES = 12;
const ID_CHARS = 16;
const IDS_PER_DRAW = 512;
let idPool = '';
let idAt = 0;

/** A fresh request id: 12 random bytes as base64url (16 characters), like tokens/crypto.ts randomId. */
export function freshRequestId(): string {
  if (idAt + ID_CHARS > idPool.length) {
    idPool = base64url.encode(crypto.getRandomValues(new Uint8Array(ID_BYTES * IDS_PER_DRAW)));
    idAt = 0;
  }
  const id = idPool.slice(idAt, idAt + ID_CHARS);
  idAt += ID_CHARS;
  return id;
}

/** `res` with a header set: in place when its headers are mutable, else on a copy (a fetch Response's are not). */
export function withHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

/** The request id of a request: the client's X-Request-Id when usable, else a fresh one, kept in its scope. */
export function startRequest(s: RequestScope): string {
  const id = requestIdOf(s.req.raw);
  s.set('requestId', id);
  return id;
}

/**
 * First middleware: the request id, in the context (`requestId`) and on the answer. The upstream
 * app gets it from forwardRequest (forward-request.ts ForwardView.requestId), which sets it on its
 * own copy of the headers: setting it here on the client's request made @hono/node-server copy
 * every one of its lazily read headers into a Headers, on every request.
 */
export function registerRequestId(app: GateApp): void {
  app.use('*', async (c, next) => {
    const id = startRequest(c);
    await next();
    // Assigned only when copied: Hono's `c.res` setter copies every answer it is given.
    const res = withHeader(c.res, REQUEST_ID_HEADER, id);
    if (res !== c.res) c.res = res;
  });
}

/**
 * The logger for lines emitted on behalf of this request: each carries the request's `rid` (and
 * the client's address when known), like its `request` line. Made on first use, so a request that
 * logs nothing but its `request` line costs nothing more.
 */
export function requestLog(logger: Logger, c: RequestScope): Logger {
  let log = c.get('log');
  if (log) return log;
  const client = clientAddressOf(c.env);
  log = childLogger(logger, { rid: c.get('requestId'), ...(client ? { client } : {}) });
  c.set('log', log);
  return log;
}

/** The request's log line (info; 5xx as warn): refusals carry their code and reason. */
export function logRequest(logger: Logger, c: RequestScope, status: number, ms: number): void {
  const level = status >= 500 ? 'warn' : 'info';
  if (logger.enabled && !logger.enabled(level)) return;
  const url = urlOf(c.req.raw);
  const client = clientAddressOf(c.env);
  logger[level]('request', {
    rid: c.get('requestId'),
    method: c.req.method,
    host: url.host,
    path: url.pathname,
    status,
    ms: Math.round(ms * 10) / 10,
    ...(client ? { client } : {}),
    ...(c.get('code') ? { code: c.get('code') } : {}),
    ...(c.get('reason') ? { reason: c.get('reason') } : {}),
    ...(c.get('user') ? { user: c.get('user') } : {}),
  });
}

/** Constant-time string comparison (the metrics token). */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Refuses /metrics unless open (library default) or the bearer token matches (GATE_METRICS_TOKEN). */
export function checkMetricsAccess(x: GatewayContext, req: Request): void {
  const { metricsAccess, metricsToken } = x.config;
  if (metricsAccess === 'open') return;
  if (metricsAccess === 'closed' || !metricsToken) {
    throw new GateError('not_found', 'Metrics are not served: set GATE_METRICS_TOKEN and scrape /metrics with Authorization: Bearer <token>.');
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
  if (!m) throw new GateError('missing_credential', 'Send the metrics token as Authorization: Bearer <GATE_METRICS_TOKEN>.');
  if (!sameSecret(m[1]!, metricsToken)) throw new GateError('invalid_token', 'Wrong metrics token.');
}

/** /healthz (liveness, with the version) and /metrics (guarded). Registered before the broker API. */
export function registerOpsRoutes(app: GateApp, x: GatewayContext, version: string | undefined): void {
  app.get(`${GW}/healthz`, (c) => c.json({ status: 'ok', ...(version ? { version } : {}) }, 200, { 'cache-control': 'no-store' }));
  app.get(`${GW}/metrics`, (c) => {
    checkMetricsAccess(x, c.req.raw);
    return c.text(x.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
  });
}

/** The operator's fix for a host page whose origin is not allowed. */
export function originHint(origin: string): string {
  return `The page origin ${origin} may not call this gateway's API: add it to GATE_ALLOWED_ORIGINS (comma-separated origins, e.g. GATE_ALLOWED_ORIGINS=${origin}).`;
}

/** True when `origin` may call the broker API from a browser. */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

/**
 * Host pages from origins missing in GATE_ALLOWED_ORIGINS: the browser blocks them with a bare
 * "Failed to fetch", so the gateway logs each such origin once (bounded) with the fix, and
 * answers `GET /api/cors-check` (a simple request: no preflight, readable from any origin, no
 * credential, nothing but the verdict about the caller's own origin) so the embed can show a
 * coded `origin_forbidden` naming the origin instead of a network error.
 */
export function registerOriginDiagnosis(app: GateApp, x: GatewayContext): void {
  const seen = new Set<string>();
  const note = (origin: string, log: Logger) => {
    if (seen.has(origin) || seen.size >= 1000) return;
    seen.add(origin);
    log.warn('origin_not_allowed', { origin, fix: `add it to GATE_ALLOWED_ORIGINS` });
  };
  app.use(`${GW}/api/*`, async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && origin !== 'null' && !originAllowed(x.config.allowedOrigins, origin) && !sameOrigin(c.req.url, origin)) note(origin, requestLog(x.logger, c));
    await next();
  });
  app.get(`${GW}/api/cors-check`, (c) => {
    const origin = c.req.header('origin') ?? null;
    const headers = { 'cache-control': 'no-store', vary: 'Origin', ...(origin ? { 'access-control-allow-origin': origin } : {}) };
    if (origin === null || sameOrigin(c.req.url, origin) || originAllowed(x.config.allowedOrigins, origin)) {
      return c.json({ origin, allowed: true }, 200, headers);
    }
    return c.json({ origin, allowed: false, error: { code: 'origin_forbidden', message: originHint(origin) } }, 200, headers);
  });
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
