/**
 * The gateway's hot path to Daytona: a fetch-shaped function over node:http/https.
 *
 * Why not the global fetch (undici): it decompresses `Content-Encoding` (the gateway must pass
 * bodies through byte for byte, or `Content-Length`/ETags lie), it cannot reach `*.localhost`
 * names (Node's resolver does not resolve them: RFC 6761 §6.3 leaves it to the application), and its per-request overhead is
 * higher than a plain keep-alive Agent. This one:
 *
 * - keeps sockets alive (one Agent per scheme, LIFO so warm sockets are reused);
 * - connects `*.localhost` to 127.0.0.1 while sending the original `Host`;
 * - streams the request body (ReadableStream → socket, waiting for 'drain'; or, for a large body
 *   still untouched from the client, the client's socket piped in: handover.ts) and the
 *   response body (socket → ReadableStream, pausing the socket when the stream's queue is full;
 *   handover.ts `bodyStream`, which the edge may pipe directly), so memory stays flat whatever the size;
 * - never decompresses, never follows redirects (the caller sees 3xx as they are);
 * - destroys the upstream request when `request.signal` aborts;
 * - retries once, on a fresh socket, a bodyless request whose reused keep-alive socket turned
 *   out to be closed by the server (the classic keep-alive race; RFC 9112 §9.3.1 allows
 *   retrying idempotent requests on a new connection).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { FetchLike, UpstreamRequestInit } from '../core/contracts.js';
import { headersFromParser } from './parsed-headers.js';
import { pipeRequestBody, takeRequestBody } from './handover.js';
import { nodeResponse } from './lazy-response.js';

export interface NodeFetchOptions {
  /** Time allowed to open a TCP (and TLS) connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Time allowed from the end of the request (body included) to the response headers. Default 5 minutes. */
  responseTimeoutMs?: number;
  /** Sockets per upstream host and port. Default unlimited. */
  maxSockets?: number;
  /** Idle keep-alive sockets kept per host and port. Default 256. */
  maxFreeSockets?: number;
  /** Connect `localhost` and `*.localhost` to 127.0.0.1 (RFC 6761 §6.3). Default true. */
  resolveLocalhost?: boolean;
}

export type NodeFetch = FetchLike & { send(request: UpstreamRequestInit): Promise<Response>; close(): void };

/** Response statuses that carry no body (RFC 9110 §6.4.1). */
const NO_BODY = new Set([204, 205, 304]);

export function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

/**
 * @example
 * const fetchUpstream = createNodeFetch();
 * const res = await fetchUpstream(new Request('http://3000-abc.proxy.localhost:4000/'));
 * fetchUpstream.close();
 */
export function createNodeFetch(opts: NodeFetchOptions = {}): NodeFetch {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const responseTimeoutMs = opts.responseTimeoutMs ?? 300_000;
  const resolveLocalhost = opts.resolveLocalhost ?? true;
  // Node's defaults are what the gateway wants (noDelay: true, keepAliveMsecs 1000, LIFO
  // scheduling, unlimited sockets, 256 idle ones), so only what differs is given: the Agent
  // spreads its options into every request's options object (`addRequest`), and a smaller one
  // is cheaper to copy (docs/benchmarks.md, "Round 8").
  const agentOptions: http.AgentOptions = { keepAlive: true };
  if (opts.maxSockets !== undefined) agentOptions.maxSockets = opts.maxSockets;
  if (opts.maxFreeSockets !== undefined) agentOptions.maxFreeSockets = opts.maxFreeSockets;
  const httpAgent = honourKeepAliveHint(new http.Agent(agentOptions));
  const httpsAgent = honourKeepAliveHint(new https.Agent(agentOptions));

  function send(request: UpstreamRequestInit, url: Target, allowStaleRetry: boolean): Promise<Response> {
    const secure = url.protocol === 'https:';
    const signal = request.signal;
    let headers: Record<string, string>;
    if (request.headers instanceof Headers) {
      headers = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
    } else {
      // The core's own record (upstream/forward.ts upstreamHeaderRecord), made for this request alone.
      headers = request.headers;
    }
    headers.host = url.host;
    const loopback = resolveLocalhost && isLocalhostName(url.hostname);
    const body = request.body;
    const options: https.RequestOptions = {
      // No `protocol`: the Agent's own is the one Node checks it against.
      hostname: loopback ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: url.path,
      method: request.method,
      // A flat list when the framing is already in it (no body, or a kept body with its
      // Content-Length): node:http then writes the head at once instead of keeping each field
      // through setHeader for later (`headStats.flat` counts it, test/gateway/hot-path.test.ts).
      headers: framed(body, headers) ? flatHeaders(headers) : headers,
      agent: secure ? httpsAgent : httpAgent,
    };
    if (secure && !loopback) options.servername = url.hostname;
    // Plain HTTP has no SNI: an empty name spares the Agent working one out (an IP regex) per request.
    else if (!secure) options.servername = '';

    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(options);
      let settled = false;
      let responseTimer: NodeJS.Timeout | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const clearTimers = () => {
        if (responseTimer) clearTimeout(responseTimer);
        if (connectTimer) clearTimeout(connectTimer);
      };
      const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      const release = () => signal.removeEventListener('abort', onAbort);

      const fail = (err: Error) => {
        clearTimers();
        if (settled) return;
        settled = true;
        release();
        if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : abortError());
        const code = (err as NodeJS.ErrnoException).code;
        if (allowStaleRetry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          resolve(send(request, url, false));
          return;
        }
        reject(err);
      };
      req.on('error', fail);

      if (responseTimeoutMs > 0) {
        // Counted from the end of the request body, so a slow large upload is not cut short.
        req.once('finish', () => {
          if (settled) return;
          responseTimer = setTimeout(() => req.destroy(timeoutError('no response headers in time')), responseTimeoutMs);
        });
      }
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting || connectTimeoutMs <= 0) return;
        connectTimer = setTimeout(() => req.destroy(timeoutError('connect timed out')), connectTimeoutMs);
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });

      req.on('response', (res: http.IncomingMessage) => {
        clearTimers();
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        // Fetch's Headers semantics without undici's per-call cost (core/http/header-list.ts); a
        // field Headers would refuse is dropped, as before.
        const responseHeaders = headersFromParser(res.rawHeaders);
        const status = res.statusCode ?? 502;
        const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders };
        if (request.method === 'HEAD' || NO_BODY.has(status)) {
          res.on('end', release).on('close', release);
          res.resume();
          resolve(new Response(null, init));
          return;
        }
        // The body stays Daytona's socket until someone asks for it; the edge may pipe it (handover.ts).
        resolve(nodeResponse(res, release, init));
      });

      // No body or a kept one (the usual request): ended here, without pumpBody's promises.
      if (body === null) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else pumpBody(body, req).catch((err: Error) => req.destroy(err));
    });
  }

  const sendInit = (request: UpstreamRequestInit): Promise<Response> => {
    if (request.signal.aborted) {
      const reason: unknown = request.signal.reason;
      return Promise.reject(reason instanceof Error ? reason : abortError());
    }
    let url: Target;
    try {
      url = targetOf(request.url, request.origin);
    } catch (err) {
      return Promise.reject(err);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.reject(new TypeError(`createNodeFetch: unsupported scheme ${url.protocol}`));
    }
    return send(request, url, request.body === null);
  };
  const fetchUpstream = ((request: Request) =>
    sendInit({ url: request.url, method: request.method, headers: request.headers, body: request.body, signal: request.signal })) as NodeFetch;
  // The upstream side's fast path (no Web Request built just to be taken apart here).
  fetchUpstream.send = sendInit;
  fetchUpstream.close = () => {
    httpAgent.destroy();
    httpsAgent.destroy();
  };
  return fetchUpstream;
}

/**
 * Idle sockets leave before the upstream closes them. A server that says `Keep-Alive:
 * timeout=N` (Node's own servers, with N = 5 by default) closes an idle connection after N s;
 * a request sent on it as it closes is reset. Node 20's Agent shortens its idle timer to the
 * hint less one second only when it has a timeout of its own (`keepSocketAlive` compares the
 * hint with that timeout, 0 here), so without this the socket was kept forever and reused into
 * the race. A bodyless request is retried on a fresh socket (`send`, allowStaleRetry); a POST is
 * not, and came back 502 `upstream_unavailable` (issue 12's intermittent app-worker failures).
 *
 * This replaces Node's `keepSocketAlive` (node:_http_agent, v20) rather than wrapping it: the
 * same steps (TCP keep-alive, unref, the idle timer, no reuse under a hint of 1 s or less), with
 * the hint read from the answer's raw fields. Node's reads `res.headers`, which builds the whole
 * header object of every answer for this one field (~2 µs per request, docs/benchmarks.md
 * "Round 8"), and wrapping it set the socket's timer twice per request.
 */
function honourKeepAliveHint<A extends http.Agent>(agent: A): A {
  agent.keepSocketAlive = (socket: Socket & { _httpMessage?: { res?: http.IncomingMessage } }) => {
    socket.setKeepAlive(true, (agent as A & { keepAliveMsecs: number }).keepAliveMsecs);
    socket.unref();
    const res = socket._httpMessage?.res;
    const hint = res === undefined ? undefined : keepAliveHintOf(res.rawHeaders);
    let idleMs = 0; // no idle limit of our own, as Node's Agent without a `timeout`
    if (hint !== undefined) {
      idleMs = hint * 1000 - 1000;
      if (idleMs <= 0) return false; // too short to reuse safely (Node's own rule)
      keepAliveStats.hinted++;
    }
    if (socket.timeout !== idleMs) socket.setTimeout(idleMs);
    return true;
  };
  return agent;
}

/** The seconds of a `Keep-Alive: timeout=N` field among raw fields (the first such field, as Node reads it), or undefined. */
export function keepAliveHintOf(raw: readonly string[]): number | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Length first: most names are not 10 long; then the usual spelling before lower-casing.
    if (name.length !== 10 || (name !== 'Keep-Alive' && name.toLowerCase() !== 'keep-alive')) continue;
    const seconds = /^timeout=(\d+)/.exec(raw[i + 1]!)?.[1];
    return seconds === undefined ? undefined : Number(seconds);
  }
  return undefined;
}

/** How many requests went out with their head written at once from a flat field list (`send`). */
export const headStats = { flat: 0 };

/** Whether the fields already say how the body is framed: no body, or a kept body whose Content-Length they give. */
function framed(body: UpstreamRequestInit['body'], headers: Record<string, string>): boolean {
  if (body === null) return true;
  return body instanceof Uint8Array && headers['content-length'] === String(body.byteLength);
}

/** A record of fields as node:http's flat `[name, value, …]` list. */
function flatHeaders(headers: Record<string, string>): string[] {
  headStats.flat++;
  const flat: string[] = [];
  for (const name in headers) flat.push(name, headers[name]!);
  return flat;
}

/** How many idle upstream sockets got the server's keep-alive hint as their idle limit (tests prove it). */
export const keepAliveStats = { hinted: 0 };

/** What `send` reads of the upstream URL: its origin's parts and the path with the query. */
interface Target {
  protocol: string;
  hostname: string;
  host: string;
  port: string;
  path: string;
}

/** Origins already parsed (a few Daytona hosts serve every request; bounded, emptied when full). */
const origins = new Map<string, Omit<Target, 'path'>>();

/**
 * How many upstream URLs were split at a remembered origin instead of parsed whole, found by
 * looking (`remembered`) or given by the core (`split`, UpstreamRequestInit.origin); tests prove the fast paths.
 */
export const targetStats = { remembered: 0, split: 0 };

/**
 * The parts of `href`. Every URL that reaches here is a serialised WHATWG URL (a Request's
 * `url`, or upstream/forward.ts#buildUpstreamInit's: a parsed origin + a parsed path and query), so the
 * text after the origin is already the path as the URL parser would give it; only the origin is
 * parsed, once per origin. Anything that does not look like `scheme://authority/…` is parsed whole.
 */
function targetOf(href: string, splitAt?: string): Target {
  // The core's own split (UpstreamRequestInit.origin): the path after it is a parsed pathname and
  // query, which never holds a fragment; the origin string is the link's own, already hashed.
  if (splitAt !== undefined && href.startsWith(splitAt) && href.charCodeAt(splitAt.length) === 0x2f) {
    const known = origins.get(splitAt);
    if (known !== undefined) {
      targetStats.split++;
      return { protocol: known.protocol, hostname: known.hostname, host: known.host, port: known.port, path: href.slice(splitAt.length) };
    }
  }
  const authority = href.indexOf('://');
  const cut = authority < 0 ? -1 : href.indexOf('/', authority + 3);
  const origin = cut < 0 ? null : href.slice(0, cut);
  const known = origin === null ? undefined : origins.get(origin);
  if (known !== undefined && !href.includes('#')) {
    targetStats.remembered++;
    return { ...known, path: href.slice(cut) };
  }
  const url = new URL(href);
  const parts = { protocol: url.protocol, hostname: url.hostname, host: url.host, port: url.port };
  // Remembered only when the text really is `{origin}{path}{query}` as parsed (so splitting it is exact).
  if (origin !== null && url.origin === origin && href === `${origin}${url.pathname}${url.search}`) {
    if (origins.size >= 100) origins.clear();
    origins.set(origin, parts);
  }
  return { ...parts, path: url.pathname + url.search };
}

/** Writes the body into the request (a stream honouring backpressure); ends it when done. */
async function pumpBody(body: UpstreamRequestInit['body'], req: http.ClientRequest): Promise<void> {
  if (body === null) {
    req.end();
    return;
  }
  if (body instanceof Uint8Array) {
    req.end(body);
    return;
  }
  const incoming = takeRequestBody(body);
  if (incoming !== null) {
    pipeRequestBody(incoming, req);
    return;
  }
  const reader = body.getReader();
  const closed = new Promise<void>((resolve) => req.once('close', resolve));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (req.destroyed) throw new Error('upstream request closed');
      if (!req.write(value)) {
        await Promise.race([new Promise<void>((resolve) => req.once('drain', resolve)), closed]);
      }
    }
    req.end();
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  }
}

function abortError(): Error {
  return new DOMException('The request was aborted', 'AbortError');
}

function timeoutError(message: string): Error {
  return new DOMException(message, 'TimeoutError');
}
