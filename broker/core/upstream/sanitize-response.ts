/**
 * What may leave the gateway of an answer from Daytona's preview proxy. Invariant (README, the
 * opening list; test/security/leakage.test.ts): the Daytona preview token and API key never
 * reach a browser, not in headers, `Location` or
 * cookies. The API key never travels to the preview proxy at all, so only the token and
 * Daytona's own cookies can come back.
 */
import type { PreviewTarget } from '../../../protocol/index.js';
import type { PreviewLink } from '../contracts.js';
import { stripHopByHop } from './hop-by-hop.js';

/**
 * Cookies Daytona's proxy sets for its own authentication (docs/daytona.md, "Authentication"):
 * `daytona-sandbox-auth-{id}` (honoured ≤ 1 h: it would open the sandbox without the gateway),
 * `pkce_verifier` (its OIDC flow), and the warning-page acceptance cookie.
 */
const DAYTONA_COOKIE = /^\s*(daytona-sandbox-auth-[^=]*|pkce_verifier|daytona-preview-page-accepted)\s*=/i;

/** Daytona's query parameter that carries a preview token (docs/daytona.md, "Authentication"). */
const DAYTONA_AUTH_QUERY = 'DAYTONA_SANDBOX_AUTH_KEY';

export interface HygieneContext {
  target: PreviewTarget;
  link: PreviewLink;
  /** The gateway's public origin for a sandbox port, e.g. `http://3000-<id>.preview.localhost:8787`. */
  previewOrigin(target: PreviewTarget): string;
}

/** True when a `Set-Cookie` value is one of Daytona's own cookies. */
export function isDaytonaCookie(setCookie: string): boolean {
  return DAYTONA_COOKIE.test(setCookie);
}

/**
 * Maps a URL on Daytona's preview host of this sandbox (`{port}-{id}.{proxy domain}`) to the
 * gateway's preview origin for the same sandbox and port; other URLs are returned unchanged.
 * Relative URLs stay relative: they already resolve against the gateway's origin.
 */
export function rewriteDaytonaUrl(value: string, ctx: HygieneContext): string {
  if (!/^[a-z][a-z0-9+.-]*:|^\/\//i.test(value)) return value; // relative reference (RFC 3986 §4.2)
  let url: URL;
  let daytona: URL;
  try {
    url = new URL(value, ctx.link.url);
    daytona = new URL(ctx.link.url);
  } catch {
    return value;
  }
  const dot = daytona.host.indexOf('.');
  const proxyDomain = dot < 0 ? '' : daytona.host.slice(dot); // ".proxy.localhost:4000"
  if (proxyDomain === '' || !url.host.toLowerCase().endsWith(proxyDomain.toLowerCase())) return value;
  const label = url.host.slice(0, url.host.length - proxyDomain.length);
  const match = /^([0-9]{1,5})-(.+)$/.exec(label);
  if (!match) return value;
  // The app may also point at the signed host it was reached on (its X-Forwarded-Host): that
  // host opens only this port, and is mapped like the sandbox's own host, credential removed.
  const ownSigned = ctx.link.signed === true && match[2] === ctx.link.token && Number(match[1]) === ctx.target.port;
  if (match[2] !== ctx.target.sandboxId && !ownSigned) return value;
  url.searchParams.delete(DAYTONA_AUTH_QUERY);
  const origin = ctx.previewOrigin({ sandboxId: ctx.target.sandboxId, port: Number(match[1]) });
  return origin + url.pathname + url.search + url.hash;
}

/**
 * Cleans response headers in place: hop-by-hop fields (RFC 9110 §7.6.1), Daytona's cookies,
 * any field that carries the Daytona token, and `Location`/`Content-Location` pointing at
 * Daytona's preview host (rewritten to the gateway's preview origin).
 */
export function sanitizeResponseHeaders(headers: Headers, ctx: HygieneContext): Headers {
  stripHopByHop(headers);
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) {
    headers.delete('set-cookie');
    for (const cookie of cookies) {
      if (!isDaytonaCookie(cookie) && !cookie.includes(ctx.link.token)) headers.append('set-cookie', cookie);
    }
  }
  for (const name of ['location', 'content-location']) {
    const value = headers.get(name);
    if (value !== null) headers.set(name, rewriteDaytonaUrl(value, ctx));
  }
  const token = ctx.link.token;
  if (token !== '') {
    const leaking: string[] = [];
    headers.forEach((value, name) => {
      if (value.includes(token)) leaking.push(name);
    });
    for (const name of leaking) headers.delete(name);
  }
  return headers;
}

/** Statuses whose response has no body (Fetch standard "null body status"). */
export function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

/**
 * The answer with sanitized headers and the same streamed body. Headers are cleaned in place
 * when the Response allows it (the Node edge's fetch makes mutable ones): no copy of the
 * headers and no second Response per request, and the Node edge can still recognise its own
 * Response (broker/node/handover.ts takeNodeBody). Immutable headers (a runtime's fetch) are copied.
 */
export function sanitizeResponse(response: Response, ctx: HygieneContext): Response {
  if (!isNullBodyStatus(response.status) || response.body === null) {
    try {
      sanitizeResponseHeaders(response.headers, ctx);
      return response;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // immutable headers: copy below
    }
  }
  const headers = sanitizeResponseHeaders(new Headers(response.headers), ctx);
  return new Response(isNullBodyStatus(response.status) ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
