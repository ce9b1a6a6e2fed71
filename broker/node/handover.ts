/**
 * The Node edge's zero-copy hand-over: one contract between the node:http client
 * (fetch-upstream.ts) and the edge's request handler (server.ts), so a body can skip the Web
 * stream hop (a promise and a queue per chunk) when nothing in the core touched it.
 *
 * The contract, both ways: a body stream made here is registered under the stream (and, for
 * answers, the Response) it became. Whoever holds that object may *take* the Node stream back
 * (`takeNodeBody`, `takeRequestBody`) only while the Web stream is untouched: not read, not
 * locked, not replaced. Taking it locks the Web stream for good, so nobody else can read it.
 * Touched in any way, the body is an ordinary Web stream and flows the usual way.
 *
 * - answers: `bodyStream` (fetch-upstream.ts makes Daytona's body with it) → `sendDirect`
 *   (server.ts) writes headers and pipes Daytona's socket into the client's;
 * - uploads: `withDirectBody` (server.ts) gives a large client body a `nodeRequestBody` stream →
 *   fetch-upstream.ts `pumpBody` takes it and pipes the client's socket into Daytona's.
 *
 * `handoverStats` counts the bodies that took the direct path (tests prove the path is taken).
 *
 * Both directions of one contract (the registry, the "untouched" test and the taking) are kept
 * side by side here so they cannot drift apart; the lazy answer that uses the registry (a
 * Response whose body stays in Daytona's socket) is lazy-response.ts.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { HeaderList } from '../core/http/header-list.js';
import { attachBodySource, type BodySource } from '../core/http/body-source.js';

/**
 * Bodies that took the direct path since the process started: answers piped, uploads piped, and
 * (`lazy`) answers sent without their Web stream ever being made (lazy-response.ts#nodeResponse).
 */
export const handoverStats = { responses: 0, requests: 0, lazy: 0, bodyless: 0 };

const STREAM_HIGH_WATER = 64 * 1024;

/** What `takeNodeBody` hands over: the upstream message, the chunks it already delivered, and whether it ended. */
export interface NodeBody {
  res: IncomingMessage;
  /** Chunks received before the handover, in order (the whole body when `ended`). */
  chunks: Buffer[];
  ended: boolean;
  /** Call once the body is done with (end, error or abandoned): drops the abort listener. */
  release(): void;
}

/** Beyond this many bytes delivered, a body is no longer offered for handover (it is being read). */
const HANDOVER_TRACK_LIMIT = 256 * 1024;
/**
 * Where an object keeps its way to be handed over: a property under a private symbol, not a
 * WeakMap entry. V8 (11.3, Node 20) keeps the value of every WeakMap entry whose key is young
 * alive through scavenges until the next full GC: one entry per answer kept each answer's whole
 * exchange (its sockets' messages, the ClientRequest, the closures) alive and promoted it to the
 * old generation, ~15 KB per request, so every scavenge copied megabytes and full GCs followed
 * (docs/benchmarks.md, hot path "Round 6"; test/unit/handover-gc.test.ts measures it).
 */
const HANDOVER = Symbol('preview-gate.handover');
type Handover = () => NodeBody | null;
type Holder = { [HANDOVER]?: Handover | undefined };
const handoverOf = (o: object): Handover | undefined => (o as Holder)[HANDOVER];
const setHandover = (o: object, take: Handover | undefined): void => {
  (o as Holder)[HANDOVER] = take;
};

/**
 * The Node edge's fast path (server.ts): when a response body is still exactly the stream this
 * module made and nobody has read from it, the edge takes the upstream IncomingMessage and pipes
 * it straight into the client's ServerResponse, skipping the Web-stream hop (a promise per
 * chunk, and @hono/node-server's separate header write). Returns null when the stream was
 * replaced, locked, partly read or already failed: the caller then streams it the usual way.
 */
export function takeNodeBody(from: ReadableStream<Uint8Array> | Response): NodeBody | null {
  return handoverOf(from)?.() ?? null;
}

/**
 * Daytona's response body as a byte stream that pauses the socket when nobody reads, registered
 * for hand-over. `release` is called once the body is done with (end, error, cancel).
 */
export function bodyStream(res: IncomingMessage, release: () => void): ReadableStream<Uint8Array> {
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
        // Made late (lazy-response.ts) for a message already cut off: its 'close' is gone by.
        if (res.destroyed && !res.readableEnded) onClose();
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
  setHandover(stream, () => {
    // Untouched = not locked, and the queue still holds every byte delivered (nothing was read).
    // (desiredSize = high-water mark - queued bytes while open; 0 once closed and drained, which
    // is why an ended body of exactly the high-water mark is not offered; an empty one always is.)
    if (delivered === null || stream.locked) return null;
    const untouched = ended && deliveredBytes === 0 ? true : deliveredBytes !== STREAM_HIGH_WATER && ctrl.desiredSize === STREAM_HIGH_WATER - deliveredBytes;
    if (!untouched) return null;
    setHandover(stream, undefined); // the Response's entry shares this closure; `delivered` is null from now on
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

/** Registers `take` as the way to hand over the body of `owner` (a lazy answer: lazy-response.ts). */
export function registerHandover(owner: object, take: () => NodeBody | null): void {
  setHandover(owner, take);
}

/** Makes `response` (built around a `bodyStream`) findable for hand-over by the Response itself. */
export function registerResponse(response: Response, body: ReadableStream<Uint8Array>): void {
  // The edge then need not touch `response.body` (on @hono/node-server's lightweight Response
  // that getter builds a second Response).
  const take = handoverOf(body);
  if (take) setHandover(response, take);
}

/**
 * The request-side mirror of takeNodeBody: a client's request body that still is exactly the
 * stream made by `nodeRequestBody` (nobody read, locked or replaced it) is piped from the
 * client's IncomingMessage straight into the upstream ClientRequest (Node's own backpressure),
 * skipping a promise and a Web-stream queue per chunk. Only bodies the upstream side passed on
 * untouched get here: those larger than the replay limit (smaller ones are read into memory
 * for a possible retry, retry.ts, and arrive as bytes).
 */
const REQUEST_BODY = Symbol('preview-gate.request-body');
type RequestBodyHolder = { [REQUEST_BODY]?: (() => Readable | null) | undefined };

export function takeRequestBody(body: ReadableStream<Uint8Array>): Readable | null {
  return (body as RequestBodyHolder)[REQUEST_BODY]?.() ?? null;
}

/** Pipes a taken client body into the upstream request; a body cut short destroys the request. */
export function pipeRequestBody(incoming: Readable, req: ClientRequest): void {
  handoverStats.requests++;
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
  // A property, not a WeakMap entry, for the reason given at HANDOVER above.
  (stream as RequestBodyHolder)[REQUEST_BODY] = () => {
    if (touched || stream.locked || incoming.readableDidRead || incoming.listenerCount('data') > 0) return null;
    (stream as RequestBodyHolder)[REQUEST_BODY] = undefined;
    touched = true;
    stream.getReader(); // locked for good: nobody else may read it now
    return incoming;
  };
  return stream;
}

/**
 * The source of a small client body (core/http/body-source.ts): nothing is read until the core
 * asks (after authentication); then the socket's chunks are gathered into one buffer. A client
 * that leaves before the declared end makes it reject, so a truncated body is never forwarded
 * as complete (as nodeRequestBody's stream errors).
 */
function nodeBodySource(incoming: IncomingMessage, length: number): BodySource {
  let bytes: Promise<Uint8Array> | null = null;
  const read = (): Promise<Uint8Array> =>
    new Promise<Uint8Array>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      };
      const onEnd = () => {
        detach();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      };
      const onClose = () => {
        detach();
        reject(new Error('the client closed the connection before the end of the request body'));
      };
      const detach = () => {
        incoming.off('data', onData);
        incoming.off('end', onEnd);
        incoming.off('close', onClose);
      };
      if (incoming.readableEnded) return reject(new Error('the request body was already read')); // never forward it as empty
      if (incoming.destroyed) return onClose();
      incoming.on('data', onData);
      incoming.on('end', onEnd);
      incoming.on('close', onClose);
      incoming.on('error', () => {}); // surfaced through 'close'
    });
  return {
    length,
    read: () => (bytes ??= read()),
  };
}

/** What @hono/node-server puts on a body without Content-Type; kept so both paths answer alike. */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/**
 * Writes a proxied answer whose body is still the untouched upstream IncomingMessage (see
 * takeNodeBody) straight to the client socket: headers and an already complete small body in
 * one write, a longer body piped with Node's own backpressure. Everything the core decided
 * (status, sanitized headers, cookies) comes from `res`; only the body bytes skip the Web
 * stream. Returns false (nothing written) when the body is not eligible.
 */
export function sendDirect(res: Response, outgoing: ServerResponse): boolean {
  if (outgoing.headersSent || outgoing.destroyed) return false;
  // Looked up by the Response object the upstream fetch made (kept through hygiene and the
  // proxy route); a replaced Response or body, or one already read from, is not eligible.
  const taken = takeNodeBody(res);
  if (taken === null) return false;
  const headers = nodeHeadersOf(res);
  headers['content-type'] ??= DEFAULT_CONTENT_TYPE;
  const src = taken.res;
  handoverStats.responses++;
  if (taken.ended) {
    const bytes = taken.chunks.length === 1 ? taken.chunks[0]! : Buffer.concat(taken.chunks);
    headers['content-length'] ??= String(bytes.length);
    outgoing.writeHead(res.status, headers);
    outgoing.end(bytes);
    return true;
  }
  let complete = false;
  src.once('end', () => {
    complete = true;
    taken.release();
  });
  src.once('close', () => {
    taken.release();
    // The upstream ended before the body did: cut the client off so it sees a truncated
    // answer as an error (as the Web-stream path does), never as a complete one.
    if (!complete) outgoing.destroy();
  });
  src.on('error', () => {}); // surfaced through 'close'
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) src.destroy(); // the client went away: stop reading Daytona
  });
  outgoing.writeHead(res.status, headers);
  for (const chunk of taken.chunks) outgoing.write(chunk);
  src.pipe(outgoing);
  return true;
}

/** An answer's headers as node:http's `writeHead` takes them (Set-Cookie as its separate lines). */
function nodeHeadersOf(res: Response): OutgoingHttpHeaders {
  if (res.headers instanceof HeaderList) return res.headers.toNodeHeaders(); // the usual answer (fetch-upstream.ts): no iterator per field
  const headers: OutgoingHttpHeaders = {};
  const cookies: string[] = [];
  for (const [name, value] of res.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else headers[name] = value;
  }
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}

/**
 * Writes an answer without a body (a 304 or 204 from the app, the answer to a HEAD, a redirect)
 * to the client, as @hono/node-server writes one: status and headers, no Content-Type added.
 * For the Node edge's lane (direct-lane.ts), after `sendDirect` declined; false (nothing
 * written) when the answer has a body or the client is gone.
 */
export function sendBodyless(res: Response, outgoing: ServerResponse): boolean {
  if (outgoing.headersSent || outgoing.destroyed || res.body !== null) return false;
  handoverStats.bodyless++;
  outgoing.writeHead(res.status, nodeHeadersOf(res));
  outgoing.end();
  return true;
}

/** A client body as the Node edge hands it to the core: a source of a small declared body, or a stream made on demand. */
export type EdgeBody = { source: BodySource; stream?: undefined } | { source?: undefined; stream: () => ReadableStream<Uint8Array> };

/**
 * The body of a request with one, for the edge lane's request view (edge-request.ts), by the
 * same rules as `withDirectBody`: a Content-Length within the replay limit gets a body source
 * (read from the socket when the core asks, no Web stream); anything else (larger, or chunked) a
 * `nodeRequestBody` stream, which fetch-upstream.ts pipes socket to socket if nobody read it.
 */
export function edgeBody(incoming: IncomingMessage, replayLimit: number): EdgeBody {
  const length = untouchedLength(incoming);
  if (length !== null && length <= replayLimit) return { source: nodeBodySource(incoming, length) };
  return { stream: () => nodeRequestBody(incoming) };
}

/** The declared Content-Length of a body nobody has read from yet, or null (chunked, invalid, or already read). */
function untouchedLength(incoming: IncomingMessage): number | null {
  const declared = incoming.headers['content-length'];
  if (declared === undefined || incoming.readableDidRead) return null;
  const length = Number(declared);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

/**
 * The request the core sees. A body declared larger than the replay limit (so the upstream side
 * passes it on unread, retry.ts) gets a stream from `nodeRequestBody` instead of
 * @hono/node-server's: if it reaches the upstream fetch untouched, fetch-upstream.ts pipes the
 * client's socket straight into Daytona's (the mirror of sendDirect); read, replaced or locked
 * on the way, it is an ordinary Web stream. Every other request passes as @hono/node-server made it.
 */
export function withDirectBody(request: Request, incoming: IncomingMessage | undefined, replayLimit: number): Request {
  if (!incoming || request.method === 'GET' || request.method === 'HEAD') return request;
  const length = untouchedLength(incoming);
  if (length === null) return request;
  if (length <= replayLimit) {
    // Small (the usual API call): read from the socket when the core asks, no Web stream (core/http/body-source.ts).
    attachBodySource(request, nodeBodySource(incoming, length));
    return request;
  }
  try {
    const init: RequestInit & { duplex: 'half' } = {
      method: request.method,
      headers: request.headers,
      body: nodeRequestBody(incoming),
      duplex: 'half',
      signal: request.signal,
    };
    return new Request(request.url, init);
  } catch {
    return request; // a method Fetch refuses (TRACE, CONNECT): as @hono/node-server made it
  }
}
