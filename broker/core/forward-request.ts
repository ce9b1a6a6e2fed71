/**
 * What the sandbox app may see. The app runs untrusted code, so before a request is
 * forwarded every gateway credential is removed: our cookies, X-Daytona-Preview-Token, an
 * Authorization header that carried our token, the share/ticket query parameters, and any
 * X-Preview-Gate-* header a client tried to inject. Then the signed identity assertion is added.
 */
import { decodeProtectedHeader } from 'jose';
import { GATE_COOKIE_PREFIX, GateError, IDENTITY_HEADER, PREVIEW_TOKEN_HEADER, SHARE_QUERY, TOKEN_TYPES, WS_TICKET_QUERY } from '../../protocol/index.js';
import { stripGateCookies } from './http/cookies.js';
import { HeaderList, headerList } from './http/header-list.js';
import { urlOf } from './request-host.js';
import { connectionTokens } from './upstream/hop-by-hop.js';
import { attachBodySource, bodySourceOf, streamOfSource, type BodySource } from './http/body-source.js';
import { answerBodyFromNative, requestWithBody } from './http/native-body.js';

const GATE_HEADER_PREFIX = 'x-preview-gate-';
const GATE_QUERY = new Set([SHARE_QUERY, WS_TICKET_QUERY]);
const GATE_TOKEN_TYPES = new Set<string>(Object.values(TOKEN_TYPES));

/**
 * True when an Authorization value holds one of the gateway's own tokens anywhere in it, not
 * only as the credential that authenticated this request: with `X-Daytona-Preview-Token` also
 * present, or with two Authorization lines (joined with ", " by the Headers API), our token
 * would otherwise ride along to the app. Judged by the JWT `typ` alone (no verification): a
 * false positive only withholds a header that carries a token of ours.
 */
export function carriesGateToken(value: string | null): boolean {
  if (!value) return false;
  for (const word of value.split(/[\s,]+/)) {
    if (word.split('.').length !== 3) continue;
    try {
      const typ = decodeProtectedHeader(word).typ;
      if (typeof typ === 'string' && GATE_TOKEN_TYPES.has(typ)) return true;
    } catch {
      /* not a JWT */
    }
  }
  return false;
}

/**
 * Header names the client declared hop-by-hop in `Connection` (RFC 9110 §7.6.1). They are
 * dropped here, before the identity assertion is added, so that `Connection:
 * x-preview-gate-identity` cannot make the upstream hop strip the assertion we add.
 */
function connectionNamed(incoming: Headers): readonly string[] {
  return connectionTokens(incoming.get('connection'));
}

/**
 * Removes the gateway's query parameters from `pathAndQuery`, keeping every other byte of the
 * query as the client sent it (URLSearchParams would re-encode it).
 */
export function stripGateQuery(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const kept = pathAndQuery
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      if (pair === '') return false;
      const name = pair.split('=', 1)[0]!;
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        /* keep the raw name */
      }
      return !GATE_QUERY.has(decoded);
    });
  return pathAndQuery.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
}

/**
 * Headers to forward: the client's, minus every gateway credential. `raw`, when the runtime edge
 * has it (ForwardView.rawHeaders), is the same fields as Node's flat `rawHeaders` list: read
 * directly, so the client's headers are never copied into a Fetch Headers just to be iterated
 * (@hono/node-server makes that copy on first iteration: ~4% of a small request).
 * test/property/sanitize-headers.property.test.ts proves both readings forward the same headers.
 */
export function sanitizeHeaders(incoming: Headers, authorizationWasOurs: boolean, raw?: readonly string[]): Headers {
  const named = connectionNamed(incoming);
  const kept = (name: string) =>
    !(
      name === PREVIEW_TOKEN_HEADER ||
      name.startsWith(GATE_HEADER_PREFIX) ||
      name === 'cookie' ||
      name === 'authorization' ||
      name === 'connection' ||
      named.includes(name)
    );
  let out: Headers;
  if (incoming instanceof HeaderList) {
    // The edge's own request view (broker/node/edge-request.ts): its fields were checked on the way in.
    forwardStats.headerLists++;
    out = incoming.filtered(kept) as unknown as Headers;
  } else if (raw !== undefined) {
    out = headerList();
    forwardStats.rawHeaders++;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name.charCodeAt(0) === 0x3a || !kept(name)) continue; // ':' an HTTP/2 pseudo-header, never a field
      try {
        out.append(name, raw[i + 1]!);
      } catch {
        /* a field Fetch's Headers refuses: not forwarded */
      }
    }
  } else {
    out = headerList();
    for (const [name, value] of incoming) if (kept(name)) out.append(name, value);
  }
  // Judged on the combined value (two Authorization lines read as one, as Headers joins them).
  const authorization = incoming.get('authorization');
  if (authorization !== null && !named.includes('authorization') && !authorizationWasOurs && !carriesGateToken(authorization)) {
    out.set('authorization', authorization);
  }
  const cookie = stripGateCookies(incoming.get('cookie'));
  if (cookie) out.set('cookie', cookie);
  return out;
}

/** Names of request headers that must not reach the app (for the WebSocket relay's strip list). */
export function gateHeaderNames(incoming: Headers, authorizationWasOurs: boolean): string[] {
  const names = new Set<string>([PREVIEW_TOKEN_HEADER, 'cookie', IDENTITY_HEADER]);
  if (authorizationWasOurs || carriesGateToken(incoming.get('authorization'))) names.add('authorization');
  for (const [name] of incoming) if (name.startsWith(GATE_HEADER_PREFIX)) names.add(name);
  return [...names];
}

/**
 * How the forwarded request is presented (optional): `publicScheme` is the scheme of the preview
 * origin (the gateway may listen in plain HTTP behind TLS: X-Forwarded-Proto must say what the
 * browser used, as the WebSocket relay does); `origin` replaces the `Origin` header
 * (broker/core/upstream/dev-origin.ts decides when).
 */
export interface ForwardView {
  publicScheme?: 'http' | 'https';
  origin?: string | null;
  /** The request id (ops.ts registerRequestId), set as X-Request-Id: the upstream app gets it. */
  requestId?: string;
  /** The request's header fields as the runtime edge received them (Node's `rawHeaders`), see sanitizeHeaders. */
  rawHeaders?: readonly string[];
}

/**
 * Methods forwarded as a lightweight view (see ForwardedRequest): the Fetch standard's own,
 * already upper-case, so `new Request` would neither refuse nor re-case them. Any other method
 * takes the full Request below (which validates and normalises it, as before).
 */
const VIEW_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * How many forwarded requests were views rather than fetch Requests, how many had their headers
 * read from the edge's raw list, and how many copied from the edge lane's HeaderList (tests prove
 * the fast paths are taken).
 */
export const forwardStats = { views: 0, rawHeaders: 0, headerLists: 0 };

/**
 * The forwarded request as what the upstream side reads of it (method, url, headers, body,
 * signal), without building a fetch `Request`: on Node 20 that costs a second AbortSignal that
 * follows the client's (createAbortSignal, makeTransferable) and a copy of the headers, on every
 * request. Anything else (`text()`, `clone()`, ...) is answered by the full Request, built once
 * on first use. `signal` is the client request's own, read only when someone asks for it.
 */
class ForwardedRequest {
  #native: Request | undefined;
  #body: ReadableStream<Uint8Array> | BodySource | null;
  readonly redirect = 'manual' as const;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Headers,
    /** The client's body stream, or the edge's source of its bytes (http/body-source.ts), which prepareBody reads. */
    body: ReadableStream<Uint8Array> | BodySource | null,
    private readonly source: Request,
    /** `url` already parsed (the router's parse, when the forwarded URL is the request's own): request-host.ts parsedUrlOf. */
    readonly parsedUrl: URL | null = null,
  ) {
    this.#body = body;
    if (body !== null && !(body instanceof ReadableStream)) attachBodySource(this, body);
  }
  /** The body as a stream: a source is turned into one only if someone asks (prepareBody reads the source itself). */
  get body(): ReadableStream<Uint8Array> | null {
    const b = this.#body;
    if (b === null || b instanceof ReadableStream) return b;
    this.#body = streamOfSource(b);
    return this.#body;
  }
  get signal(): AbortSignal {
    return this.source.signal;
  }
  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? false;
  }
  /** The equivalent fetch Request (made once, sharing this view's headers and body). */
  native(): Request {
    this.#native ??= toRequest(this.url, this.method, this.headers, this.body, this.source.signal);
    return this.#native;
  }
}

// arrayBuffer, text, json, blob, formData, clone: answered by native() (the view is only ever used as a Request).
answerBodyFromNative(ForwardedRequest);

function toRequest(url: string, method: string, headers: Headers, body: ReadableStream<Uint8Array> | null, signal: AbortSignal): Request {
  return requestWithBody(url, { method, headers, redirect: 'manual', signal }, body);
}

/**
 * The request the upstream side forwards: same method, body stream and path, stripped of
 * gateway credentials, with the identity assertion (when there is an identity). For the usual
 * methods a lightweight view (ForwardedRequest) that reads like a Request; otherwise a fetch
 * Request, whose constructor judges the method.
 */
export function forwardRequest(req: Request, authorizationWasOurs: boolean, identity: string | null, view?: ForwardView): Request {
  const url = urlOf(req);
  const headers = sanitizeHeaders(req.headers, authorizationWasOurs, view?.rawHeaders);
  if (identity) headers.set(IDENTITY_HEADER, identity);
  if (view?.origin) headers.set('origin', view.origin);
  if (view?.requestId) headers.set('x-request-id', view.requestId);
  // The URL's scheme is what upstream/forward.ts sends as X-Forwarded-Proto.
  const scheme = view?.publicScheme ? `${view.publicScheme}:` : url.protocol;
  const target = `${scheme}//${url.host}${stripGateQuery(url.pathname + url.search)}`;
  // The edge's source of a small body first: reaching `req.body` is what builds a stream (http/body-source.ts).
  const source = req.method === 'GET' || req.method === 'HEAD' ? undefined : bodySourceOf(req);
  const hasBody = source !== undefined || (req.method !== 'GET' && req.method !== 'HEAD' && req.body !== null);
  const body = !hasBody ? null : (source ?? req.body);
  if (VIEW_METHODS.has(req.method)) {
    forwardStats.views++;
    // A view stands in for a Request wherever the upstream side takes one (contracts.ts Upstream.forward).
    // Unchanged (no gateway query, the same scheme): the upstream side reads the router's parse.
    const parsed = target === url.href ? url : null;
    return new ForwardedRequest(req.method, target, headers, body, req, parsed) as unknown as Request;
  }
  try {
    return toRequest(target, req.method, headers, body === null || body instanceof ReadableStream ? body : streamOfSource(body), req.signal);
  } catch {
    // A method the Fetch standard forbids (proxy.ts refuses them first; this keeps it coded).
    throw new GateError('method_not_allowed', `${req.method} is never forwarded to a preview.`);
  }
}

/** True when an answer tries to set one of the gateway's cookies (see stripAppSetCookies). */
export function hasGateSetCookie(headers: Headers): boolean {
  if (!headers.has('set-cookie')) return false;
  return headers.getSetCookie().some((c) => c.trim().startsWith(GATE_COOKIE_PREFIX));
}

/** Drops Set-Cookie headers with the gateway's cookie names from an app's answer (no session fixation by the app). */
export function stripAppSetCookies(headers: Headers): void {
  const cookies = headers.getSetCookie();
  if (!cookies.some((c) => c.trim().startsWith(GATE_COOKIE_PREFIX))) return;
  headers.delete('set-cookie');
  for (const c of cookies) if (!c.trim().startsWith(GATE_COOKIE_PREFIX)) headers.append('set-cookie', c);
}

/**
 * An answer to an authenticated request must never be stored by a shared cache (a CDN in front
 * of the gateway would otherwise serve a private preview to anyone, without asking the
 * gateway; RFC 9111 §5.2.2.7). The sandbox app is untrusted and may say `public` or
 * `s-maxage`: those are replaced by `private`, the rest (max-age, no-cache, ...) is kept, so the
 * browser's own cache still works. Returns the value to set, or null when nothing changes.
 */
export function privateCacheControl(value: string | null): string | null {
  if (!value) return 'private';
  // An app sends the same few values on every answer: each is worked out once (bounded, emptied when full).
  const known = cacheControls.get(value);
  if (known !== undefined) return known;
  const made = makePrivate(value);
  if (cacheControls.size >= 500) cacheControls.clear();
  cacheControls.set(value, made);
  return made;
}

const cacheControls = new Map<string, string | null>();

function makePrivate(value: string): string | null {
  const directives = value
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  const lower = directives.map((d) => d.toLowerCase());
  if (lower.includes('private') && !lower.some((d) => d === 'public' || d.startsWith('s-maxage'))) return null;
  if (lower.includes('no-store') && !lower.some((d) => d === 'public' || d.startsWith('s-maxage'))) return null;
  const kept = directives.filter((_, i) => lower[i] !== 'public' && !lower[i]!.startsWith('s-maxage') && lower[i] !== 'private');
  return ['private', ...kept].join(', ');
}
