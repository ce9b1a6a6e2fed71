/**
 * Building the request sent to Daytona's preview proxy for one client request.
 *
 * Order of steps (each a line below): copy the client's end-to-end headers; drop hop-by-hop
 * ones (RFC 9110 §7.6.1); drop the client's `Host` (the URL names Daytona's host) and every
 * client-sent `X-Daytona-*` header (they steer Daytona's proxy, not the app); add Daytona's token
 * and control headers; set the X-Forwarded-* headers; keep method, path, query and body.
 */
import { PREVIEW_TOKEN_HEADER, SKIP_WARNING_HEADER } from '../../../protocol/index.js';
import type { AbortLike, ForwardMeta, PreviewLink, UpstreamRequestInit } from '../contracts.js';
import { connectionTokens, isHopByHop, stripHopByHop } from './hop-by-hop.js';
import type { PreparedBody } from './retry.js';

/**
 * Sent on every upstream request. Daytona's proxy by default answers CORS itself: it echoes any
 * `Origin` with `Access-Control-Allow-Credentials: true` and answers every preflight 204 before
 * authentication (docs/daytona.md, "Warning page, CORS, activity"). Behind the gateway that is wrong twice over: it
 * duplicates the app's own `Access-Control-Allow-Origin` (a known Daytona issue), and it would
 * let any site read a preview with the user's gateway cookie. With this header Daytona stays out
 * of CORS: the app's own CORS headers pass through unchanged and are the only ones.
 */
export const DISABLE_CORS_HEADER = 'x-daytona-disable-cors';

/**
 * The headers Daytona needs on every request (HTTP and WebSocket). A signed link carries its
 * credential in the host, so no token header is sent: Daytona strips that header only for
 * private sandboxes (docs/daytona.md, "What reaches the app"), and on a public sandbox the app
 * would read a token that opens every port of its sandbox.
 */
export function daytonaHeaders(link: PreviewLink, skipActivity = false): Record<string, string> {
  const headers: Record<string, string> = {
    [SKIP_WARNING_HEADER]: 'true',
    [DISABLE_CORS_HEADER]: 'true',
  };
  if (!link.signed) headers[PREVIEW_TOKEN_HEADER] = link.token;
  if (skipActivity) headers[SKIP_ACTIVITY_HEADER] = 'true';
  return headers;
}

/**
 * Asks Daytona not to refresh the sandbox's last activity for this request, nor every 50 s while
 * its connection stays open (docs/daytona.md, "Forwarding"). Which requests carry it is the
 * `activityUpdates` setting (create-upstream.ts, GATE_ACTIVITY_UPDATES).
 */
export const SKIP_ACTIVITY_HEADER = 'x-daytona-skip-last-activity-update';

/**
 * Which traffic keeps a sandbox awake: `all` (Daytona's default behaviour), `requests` (plain
 * requests do; WebSockets and server-sent-event streams do not, so an idle IDE tab with a
 * hot-reload socket lets the sandbox auto-stop), `never` (nothing through the gateway does).
 */
export type ActivityUpdates = 'all' | 'requests' | 'never';

/** Whether a request is a long-lived stream by its own declaration (SSE); WebSockets are decided by the caller. */
export function isEventStream(headers: Headers): boolean {
  return (headers.get('accept') ?? '').toLowerCase().includes('text/event-stream');
}

/**
 * The upstream headers for a client request whose public URL is `publicUrl`.
 * X-Forwarded-Host and -Proto are *set* (never appended to a client-supplied value: Daytona's
 * proxy appends its own host, docs/daytona.md "What reaches the app"); X-Forwarded-For follows the usual
 * append convention, as it records the chain of peers.
 */
export function upstreamHeaders(incoming: Headers, publicUrl: URL, link: PreviewLink, meta?: ForwardMeta, skipActivity = false): Headers {
  const headers = stripHopByHop(new Headers(incoming));
  headers.delete('host');
  // The gateway answered any `Expect: 100-continue` itself; repeating it upstream would make the
  // client library wait for a 100 that the body is already on its way for.
  headers.delete('expect');
  const daytonaOwn: string[] = [];
  headers.forEach((_value, name) => {
    if (name.startsWith('x-daytona-')) daytonaOwn.push(name);
  });
  for (const name of daytonaOwn) headers.delete(name);
  for (const [name, value] of Object.entries(daytonaHeaders(link, skipActivity))) headers.set(name, value);
  headers.set('x-forwarded-host', publicUrl.host);
  headers.set('x-forwarded-proto', publicUrl.protocol.slice(0, -1));
  if (meta?.clientAddress) {
    const prior = headers.get('x-forwarded-for');
    headers.set('x-forwarded-for', prior ? `${prior}, ${meta.clientAddress}` : meta.clientAddress);
  }
  return headers;
}

/** The origin of each cached link's URL, parsed once per link (links live minutes, requests many). */
const linkOrigins = new WeakMap<PreviewLink, string>();

/** The origin of a link's URL (parsed once per link). */
function linkOrigin(link: PreviewLink): string {
  let origin = linkOrigins.get(link);
  if (origin === undefined || !link.url.startsWith(origin)) {
    origin = new URL(link.url).origin;
    linkOrigins.set(link, origin);
  }
  return origin;
}

/** The complete upstream Request; `redirect: 'manual'` so the app's redirects reach the client. */
export function buildUpstreamRequest(
  request: Request,
  publicUrl: URL,
  link: PreviewLink,
  body: PreparedBody,
  signal: AbortSignal,
  meta?: ForwardMeta,
  skipActivity = false,
): Request {
  const u = buildUpstreamInit(request, publicUrl, link, body, signal, meta, skipActivity);
  const init: RequestInit & { duplex?: 'half' } = {
    method: u.method,
    headers: u.headers,
    body: u.body as BodyInit | null,
    redirect: 'manual',
    signal,
  };
  if (u.body instanceof ReadableStream) init.duplex = 'half'; // required for a streamed body (Fetch standard)
  return new Request(u.url, init);
}

/** HTTP whitespace (RFC 9110 §5.6.3; Fetch's header value normalisation). */
const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * A value as a Headers copy would hold it: a repeated header joined by Headers (`a, ` for an
 * empty second line) gets its edge whitespace trimmed when copied into another Headers.
 */
function trimmed(value: string): string {
  if (value === '' || (!isWhitespace(value.charCodeAt(0)) && !isWhitespace(value.charCodeAt(value.length - 1)))) return value;
  return value.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

/** How many upstream requests had their headers built as one plain record (tests prove the fast path). */
export const upstreamHeaderStats = { records: 0 };

/**
 * The same headers as `upstreamHeaders` followed by `content-length` (a string to set, null to
 * drop, undefined to keep the client's), as the plain record node:http takes: one pass over the
 * forwarded request's headers instead of a second Headers copy, a dozen deletes and sets, and a
 * third pass to turn it into a record (docs/benchmarks.md, "Hot path: before and after").
 * test/property/upstream-header-record.property.test.ts proves it equals `upstreamHeaders`.
 */
export function upstreamHeaderRecord(
  incoming: Headers,
  publicUrl: URL,
  link: PreviewLink,
  meta?: ForwardMeta,
  skipActivity = false,
  contentLength?: string | null,
): Record<string, string> {
  upstreamHeaderStats.records++;
  const named = connectionTokens(incoming.get('connection'));
  const out: Record<string, string> = {};
  incoming.forEach((value, name) => {
    // The same removals as upstreamHeaders: hop-by-hop, Host, Expect, every client x-daytona-*.
    if (name === 'host' || name === 'expect' || name.startsWith('x-daytona-') || isHopByHop(name, named)) return;
    out[name] = trimmed(value);
  });
  const own = daytonaHeaders(link, skipActivity);
  for (const name in own) out[name] = own[name] as string;
  out['x-forwarded-host'] = publicUrl.host;
  out['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
  if (meta?.clientAddress) {
    const prior = Object.hasOwn(out, 'x-forwarded-for') ? out['x-forwarded-for'] : undefined;
    out['x-forwarded-for'] = prior ? `${prior}, ${meta.clientAddress}` : meta.clientAddress;
  }
  if (contentLength === null) delete out['content-length'];
  else if (contentLength !== undefined) out['content-length'] = contentLength;
  return out;
}

/**
 * The same upstream request as its parts (for `FetchLike.send`), its headers as one plain
 * record (upstreamHeaderRecord).
 */
export function buildUpstreamInit(
  request: Request,
  publicUrl: URL,
  link: PreviewLink,
  body: PreparedBody,
  signal: AbortSignal | AbortLike,
  meta?: ForwardMeta,
  skipActivity = false,
): UpstreamRequestInit {
  let payload: Uint8Array | ReadableStream<Uint8Array> | null = null;
  if (body.replayable) {
    if (body.bytes !== null) payload = body.bytes;
  } else {
    payload = body.stream;
  }
  // A GET or HEAD that declared a body: none is sent, so no length may be announced either
  // (the upstream would wait for bytes that never come).
  const length = payload === null ? null : payload instanceof Uint8Array ? String(payload.byteLength) : undefined;
  const headers = upstreamHeaderRecord(request.headers, publicUrl, link, meta, skipActivity, length);
  // Daytona's URL for the same path and query, `{link.url origin}{path}{query}`, and where it splits.
  const origin = linkOrigin(link);
  return { url: origin + publicUrl.pathname + publicUrl.search, origin, method: request.method, headers, body: payload, signal };
}
