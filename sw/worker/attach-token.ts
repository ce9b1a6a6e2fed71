/**
 * Which requests get the access token, and how the outgoing request is rebuilt with it.
 * The token goes to the worker's own origin only, never under /__gate/, and never on long
 * streams (EventSource, media), which take the cookie path untouched.
 */
import { GATE_PATHS, PREVIEW_TOKEN_HEADER, RESERVED_PREFIX, VIA_WORKER_HEADER } from '../../protocol/index.js';

/** The parts of a Request the decision needs, so tests can pass plain objects. */
export interface RequestShape {
  url: string;
  headers: Headers;
  destination: string;
}

/** Destinations whose responses are long streams or range requests the browser manages itself. */
const STREAM_DESTINATIONS = new Set(['audio', 'video', 'track']);

export function shouldIntercept(request: RequestShape, selfOrigin: string): boolean {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return false;
  }
  if (url.origin !== selfOrigin) return false; // other origins never see our token
  if (url.pathname.startsWith(RESERVED_PREFIX)) return false; // the gateway's own endpoints
  if ((request.headers.get('accept') ?? '').includes('text/event-stream')) return false;
  if (STREAM_DESTINATIONS.has(request.destination)) return false;
  if (request.headers.has('range')) return false;
  return true;
}

function sameOriginUrl(request: RequestShape, selfOrigin: string): URL | null {
  try {
    const url = new URL(request.url);
    return url.origin === selfOrigin ? url : null;
  } catch {
    return null;
  }
}

/**
 * `POST /__gate/ws-ticket` from a page of this origin: the one gateway path the worker gives the
 * token to, so the WebSocket wrapper (sw/page/ws-shim.ts) gets a ticket without any cookie.
 */
export function isTicketRequest(request: RequestShape & { method: string }, selfOrigin: string): boolean {
  const url = sameOriginUrl(request, selfOrigin);
  return url !== null && request.method === 'POST' && url.pathname === GATE_PATHS.wsTicket;
}

/**
 * A same-origin EventSource request (outside /__gate/). On the cookie-less path the worker
 * carries it with the token (sw.ts); otherwise it stays on the cookie path, untouched.
 */
export function isEventStream(request: RequestShape, selfOrigin: string): boolean {
  const url = sameOriginUrl(request, selfOrigin);
  return url !== null && !url.pathname.startsWith(RESERVED_PREFIX) && (request.headers.get('accept') ?? '').includes('text/event-stream');
}

/** Methods whose requests carry no body (Fetch: a GET/HEAD Request cannot have one). */
export function hasBody(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/**
 * A new same-origin Request for `request`, with the access token when `token` is given.
 *
 * Navigation requests cannot be re-issued as-is (mode `navigate` is not constructible), so
 * the copy uses mode `same-origin` and `redirect: 'manual'`: a redirect comes back as an
 * opaqueredirect response that the browser itself follows, keeping the address bar right.
 * Other requests use mode `same-origin` too: a `no-cors` request would silently drop the
 * custom header, and a same-origin request fails instead of following a redirect to another
 * origin, so the token header can never ride a redirect off-origin.
 */
export function rebuildRequest(request: Request, body: ArrayBuffer | null, token: string | null): Request {
  const headers = new Headers(request.headers);
  if (token) {
    headers.set(PREVIEW_TOKEN_HEADER, token);
    headers.set(VIA_WORKER_HEADER, 'worker');
  } else {
    headers.delete(PREVIEW_TOKEN_HEADER);
    headers.delete(VIA_WORKER_HEADER);
  }
  const navigate = request.mode === 'navigate';
  return copyRequest(request, headers, body, 'same-origin', navigate ? 'manual' : request.redirect);
}

/**
 * `request` re-issued with `headers` and `body` in `mode`: everything else a page's request
 * carries (credentials, cache, referrer, integrity, keepalive, signal) as it was. Shared by the
 * same-origin copy above and the sibling-origin copy (sibling-origins.ts).
 */
export function copyRequest(request: Request, headers: Headers, body: ArrayBuffer | null, mode: RequestMode, redirect: RequestRedirect): Request {
  const init: RequestInit = {
    method: request.method,
    headers,
    mode,
    credentials: request.credentials,
    cache: request.cache === 'only-if-cached' ? 'default' : request.cache,
    redirect,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
    integrity: request.integrity,
    keepalive: request.keepalive,
    signal: request.signal,
  };
  if (body !== null && hasBody(request.method)) init.body = body;
  return new Request(request.url, init);
}
