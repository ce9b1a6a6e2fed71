/**
 * The one place where a failure becomes an HTTP answer: GateError → JSON or an HTML page by
 * `Accept`, `WWW-Authenticate` on 401 (RFC 6750 §3), anything else → 'internal' with no detail.
 */
import { GateError, bearerErrorFor } from '../../../protocol/index.js';
import { errorPage, newNonce, pageHeaders } from './pages.js';
import { clearCookies } from './cookies.js';
import { wantsHtml } from './fetch-metadata.js';
import type { CookieMode } from '../store/store.js';
import type { ResolvedPages } from '../page-config.js';

/**
 * A coded error after which the browser must forget the session cookies (a dead session found
 * through the refresh cookie): the answer carries Set-Cookie lines deleting them, in the mode
 * (`lax` / `partitioned`) the cookies were set with.
 */
export class SessionEndedError extends GateError {
  readonly clearCookies: CookieMode;
  constructor(err: GateError, mode: CookieMode) {
    super(err.code, err.message, err.headers);
    this.clearCookies = mode;
  }
}

/** The Retry-After of 503s that do not name their own. */
export const STARTING_RETRY_SECONDS = 2;

function quoted(s: string): string {
  return s.replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, '');
}

/** Codes whose answer says "try again shortly" (Retry-After) when the error names no delay of its own. */
const RETRYABLE = new Set(['sandbox_starting', 'sandbox_stopped', 'daytona_unavailable', 'app_not_listening']);

/**
 * Turns any thrown value into the answer a client sees. `frameAncestors`: host-app origins
 * allowed to frame an HTML error page (config.allowedOrigins); `pages`: the product name, logo
 * and host-app URL of the page (config.pages).
 */
export function errorResponse(err: unknown, req: Request, frameAncestors: readonly string[] = [], pages?: ResolvedPages | null): Response {
  const e = err instanceof GateError ? err : new GateError('internal', 'The gateway failed to handle this request.');
  const headers = new Headers(e.headers);
  headers.set('cache-control', 'no-store');
  if (e instanceof SessionEndedError) for (const c of clearCookies(e.clearCookies)) headers.append('set-cookie', c);
  if (e.status === 401) {
    headers.set('www-authenticate', `Bearer error="${bearerErrorFor(e.code)}", error_description="${quoted(e.message)}", error_code="${e.code}"`);
  }
  if (RETRYABLE.has(e.code)) {
    if (!headers.has('retry-after')) headers.set('retry-after', String(STARTING_RETRY_SECONDS));
  }
  if (wantsHtml(req)) {
    const nonce = newNonce();
    for (const [k, v] of Object.entries(pageHeaders(nonce, frameAncestors, pages))) headers.set(k, v);
    const html = errorPage(e.code, e.message, nonce, { host: new URL(req.url).hostname, ...(pages ? { pages } : {}) });
    return new Response(req.method === 'HEAD' ? null : html, { status: e.status, headers });
  }
  headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(req.method === 'HEAD' ? null : JSON.stringify(e.toJSON()), { status: e.status, headers });
}
