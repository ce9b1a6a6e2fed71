/**
 * The gateway's hot path to Daytona: a fetch-shaped function over node:http/https.
 *
 * Why not the global fetch (undici): it decompresses `Content-Encoding` (the gateway must pass
 * bodies through byte for byte, or `Content-Length`/ETags lie), it cannot reach `*.localhost`
 * names (Node's resolver does not resolve them, brief.md), and its per-request overhead is
 * higher than a plain keep-alive Agent. This one:
 *
 * - keeps sockets alive (one Agent per scheme, LIFO so warm sockets are reused);
 * - connects `*.localhost` to 127.0.0.1 while sending the original `Host`;
 * - streams the request body (ReadableStream → socket, waiting for 'drain'; or, for a large body
 *   still untouched from the client, the client's socket piped in: `nodeRequestBody`) and the
 *   response body (socket → ReadableStream, pausing the socket when the stream's queue is full),
 *   so memory stays flat whatever the size;
 * - never decompresses, never follows redirects (the caller sees 3xx as they are);
 * - destroys the upstream request when `request.signal` aborts;
 * - retries once, on a fresh socket, a bodyless request whose reused keep-alive socket turned
 *   out to be closed by the server (the classic keep-alive race; RFC 9112 §9.3.1 allows
 *   retrying idempotent requests on a new connection).
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { FetchLike, UpstreamRequestInit } from '../core/contracts.js';

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
  const agentOptions = {
    // Nagle off: a request is written as headers + body in separate writes, and with Nagle the
    // second small write waits for the peer's (delayed) ACK of the first.
    noDelay: true,
    keepAlive: true,
    keepAliveMsecs: 1_000,
    maxSockets: opts.maxSockets ?? Infinity,
    maxFreeSockets: opts.maxFreeSockets ?? 256,
    scheduling: 'lifo' as const,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  function send(request: UpstreamRequestInit, url: URL, allowStaleRetry: boolean): Promise<Response> {
    const secure = url.protocol === 'https:';
    const signal = request.signal;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    headers.host = url.host;
    const loopback = resolveLocalhost && isLocalhostName(url.hostname);
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: loopback ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: url.pathname + url.search,
      method: request.method,
      headers,
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
        const responseHeaders = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) {
          try {
            responseHeaders.append(raw[i] as string, raw[i + 1] as string);
          } catch {
            // a header value fetch's Headers refuses (e.g. raw bytes outside Latin-1): dropped
          }
        }
        const status = res.statusCode ?? 502;
        const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders };
        if (request.method === 'HEAD' || NO_BODY.has(status)) {
          res.on('end', release).on('close', release);
          res.resume();
          resolve(new Response(null, init));
          return;
        }
        const body = bodyStream(res, release);
        const response = new Response(body, init);
        // Also findable from the Response itself: the edge then need not touch `response.body`
        // (on @hono/node-server's lightweight Response that getter builds a second Response).
        handovers.set(response, handovers.get(body)!);
        resolve(response);
      });

      pumpBody(request.body, req).catch((err: Error) => req.destroy(err));
    });
  }

  const sendInit = (request: UpstreamRequestInit): Promise<Response> => {
    if (request.signal.aborted) {
      const reason: unknown = request.signal.reason;
      return Promise.reject(reason instanceof Error ? reason : abortError());
    }
    const url = new URL(request.url);
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

/**
 * The request-side mirror of takeNodeBody: a client's request body that still is exactly the
 * stream made by `nodeRequestBody` (nobody read, locked or replaced it) is piped from the
 * client's IncomingMessage straight into the upstream ClientRequest (Node's own backpressure),
 * skipping a promise and a Web-stream queue per chunk. Only bodies the upstream side passed on
 * untouched get here: those larger than the replay limit (smaller ones are read into memory
 * for a possible retry, retry.ts, and arrive as bytes).
 */
const requestBodies = new WeakMap<ReadableStream<Uint8Array>, () => Readable | null>();

function takeRequestBody(body: ReadableStream<Uint8Array>): Readable | null {
  return requestBodies.get(body)?.() ?? null;
}

/** Pipes a taken client body into the upstream request; a body cut short destroys the request. */
function pipeRequestBody(incoming: Readable, req: http.ClientRequest): void {
  const cut = () => req.destroy(new Error('the client closed the connection before the end of the request body'));
  if (incoming.destroyed) {
    // Gone before we got here (the client hung up): never send a truncated body as complete.
    if (!incoming.readableEnded) cut();
    return;
  }
  incoming.on('error', () => {}); // surfaced through 'close'
  incoming.once('close', () => {
    if (!incoming.readableEnded) cut();
  });
  req.once('close', () => incoming.unpipe(req)); // what is left is drained by @hono/node-server
  incoming.pipe(req);
}

/**
 * A client request body (the Node edge's IncomingMessage) as a Web stream that this module can
 * take back (see takeRequestBody). Lazy: nothing is read from `incoming` until the stream is
 * first pulled, and a pulled, cancelled or locked stream is never taken. When it is read the
 * usual way it queues at most 64 KiB before pausing the socket.
 */
export function nodeRequestBody(incoming: Readable): ReadableStream<Uint8Array> {
  let touched = false;
  let attached = false;
  let done = false;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer) => {
    if (done) return;
    ctrl.enqueue(chunk);
    // High-water mark 0 (so that pull means "a reader waits"): desiredSize is minus the bytes queued.
    if ((ctrl.desiredSize ?? 0) <= -STREAM_HIGH_WATER) incoming.pause();
  };
  const onEnd = () => {
    if (done) return;
    done = true;
    detach();
    ctrl.close();
  };
  const onClose = () => {
    if (done) return;
    done = true;
    detach();
    ctrl.error(new Error('the client closed the connection before the end of the request body'));
  };
  const detach = () => {
    incoming.off('data', onData);
    incoming.off('end', onEnd);
    incoming.off('close', onClose);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        ctrl = controller;
      },
      pull() {
        touched = true;
        if (done) return;
        if (!attached) {
          attached = true;
          if (incoming.destroyed && !incoming.readableEnded) return onClose();
          incoming.on('data', onData);
          incoming.on('end', onEnd);
          incoming.on('close', onClose);
          incoming.on('error', () => {}); // surfaced through 'close'
        }
        incoming.resume();
      },
      cancel() {
        // Left unread: @hono/node-server drains (or closes) the client's body after the answer.
        touched = true;
        done = true;
        detach();
        incoming.pause();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  requestBodies.set(stream, () => {
    if (touched || stream.locked || incoming.readableDidRead || incoming.listenerCount('data') > 0) return null;
    requestBodies.delete(stream);
    touched = true;
    stream.getReader(); // locked for good: nobody else may read it now
    return incoming;
  });
  return stream;
}

/** What `takeNodeBody` hands over: the upstream message, the chunks it already delivered, and whether it ended. */
export interface NodeBody {
  res: http.IncomingMessage;
  /** Chunks received before the handover, in order (the whole body when `ended`). */
  chunks: Buffer[];
  ended: boolean;
  /** Call once the body is done with (end, error or abandoned): drops the abort listener. */
  release(): void;
}

const STREAM_HIGH_WATER = 64 * 1024;
/** Beyond this many bytes delivered, a body is no longer offered for handover (it is being read). */
const HANDOVER_TRACK_LIMIT = 256 * 1024;
const handovers = new WeakMap<object, () => NodeBody | null>();

/**
 * The Node edge's fast path (server.ts): when a response body is still exactly the stream this
 * module made and nobody has read from it, the edge takes the upstream IncomingMessage and pipes
 * it straight into the client's ServerResponse, skipping the Web-stream hop (a promise per
 * chunk, and @hono/node-server's separate header write). Returns null when the stream was
 * replaced, locked, partly read or already failed: the caller then streams it the usual way.
 */
export function takeNodeBody(from: ReadableStream<Uint8Array> | Response): NodeBody | null {
  return handovers.get(from)?.() ?? null;
}

/** The response body as a byte stream that pauses the socket when nobody reads. */
function bodyStream(res: http.IncomingMessage, release: () => void): ReadableStream<Uint8Array> {
  let done = false;
  let ended = false;
  // Chunks enqueued so far, kept only while a handover is still possible (bounded).
  let delivered: Buffer[] | null = [];
  let deliveredBytes = 0;
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer) => {
    if (done) return;
    ctrl.enqueue(chunk);
    if (delivered !== null) {
      delivered.push(chunk);
      deliveredBytes += chunk.length;
      if (deliveredBytes > HANDOVER_TRACK_LIMIT) delivered = null;
    }
    if ((ctrl.desiredSize ?? 1) <= 0) res.pause();
  };
  const onEnd = () => {
    if (done) return;
    done = true;
    ended = true;
    release();
    ctrl.close();
  };
  const onClose = () => {
    release();
    if (done) return;
    done = true;
    delivered = null;
    // The upstream connection ended before the body did (reset, app crashed): the client
    // must see a truncated body as an error, not as a complete response.
    ctrl.error(new Error('upstream closed the connection before the end of the body'));
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        ctrl = controller;
        res.on('data', onData);
        res.on('end', onEnd);
        res.on('close', onClose);
        res.on('error', () => {}); // surfaced through 'close' above
      },
      pull() {
        if (res.isPaused()) res.resume();
      },
      cancel() {
        done = true;
        delivered = null;
        release();
        res.destroy();
      },
    },
    { highWaterMark: STREAM_HIGH_WATER, size: (chunk) => chunk.byteLength },
  );
  handovers.set(stream, () => {
    // Untouched = not locked, and the queue still holds every byte delivered (nothing was read).
    // (desiredSize = high-water mark - queued bytes while open; 0 once closed and drained, which
    // is why an ended body of exactly the high-water mark is not offered; an empty one always is.)
    if (delivered === null || stream.locked) return null;
    const untouched = ended && deliveredBytes === 0 ? true : deliveredBytes !== STREAM_HIGH_WATER && ctrl.desiredSize === STREAM_HIGH_WATER - deliveredBytes;
    if (!untouched) return null;
    handovers.delete(stream); // the Response's entry shares this closure; `delivered` is null from now on
    const chunks = delivered;
    delivered = null;
    if (!ended) {
      res.pause(); // no 'data' may fire between removing our listener and the new consumer's
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('close', onClose);
      done = true;
    }
    return { res, chunks, ended, release };
  });
  return stream;
}

function abortError(): Error {
  return new DOMException('The request was aborted', 'AbortError');
}

function timeoutError(message: string): Error {
  return new DOMException(message, 'TimeoutError');
}
