/**
 * What the Node edge refuses before the core sees a request, and the timeouts of its sockets.
 * Every refusal is a coded answer of the one error model (`{"error":{"code","message"}}`,
 * protocol/errors.ts) with `Connection: close`, never Node's or @hono/node-server's bare 400.
 *
 * Framing a front proxy could read differently from Node (request smuggling, RFC 9112 §11.2):
 *  - an HTTP/1.0 request with Transfer-Encoding (RFC 9112 §6.1: "faulty framing", close);
 *  - several Host lines, or none on HTTP/1.1 (RFC 9112 §3.2: 400);
 *  - a Host that is no valid authority (port 99999, userinfo) or a backslash in the path
 *    (which @hono/node-server would answer with a bare 400 and keep the connection);
 *  - whatever Node's parser itself refuses (`clientError`): unknown methods → 501, oversized
 *    headers → 431, a client too slow with its headers → 408, anything else → 400;
 *  - CONNECT (Node's 'connect' event) → 405: the gateway opens no tunnels.
 * A request pipelined behind a refused one on the same connection is never served.
 *
 * Timeouts (docs/interface.md, "Timeouts"), chosen for a proxy in front of dev servers:
 *  - headers: the whole request head must arrive within `headersTimeoutMs` (slowloris);
 *  - body: a request body that stops moving for `bodyIdleTimeoutMs` is cut (408). There is
 *    deliberately no cap on a body's TOTAL time: a large upload on a slow link keeps going as
 *    long as it moves;
 *  - keep-alive: an idle connection between requests closes after `keepAliveTimeoutMs`.
 * Answers are never cut for their duration (long downloads, event streams), and WebSockets,
 * once upgraded, are not touched by any of these.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { GateError } from '../../protocol/index.js';

export interface EdgeTimeouts {
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** node:http options for these timeouts (set at construction: the checking interval cannot change later). */
export function edgeServerOptions(t: EdgeTimeouts): ServerOptions {
  return {
    headersTimeout: t.headersTimeoutMs,
    // No total cap on receiving a request (see the header); the body-idle timer cuts stalled bodies.
    requestTimeout: 0,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // Node checks the headers timeout on this interval (default 30 s: a slowloris would get up
    // to 30 s more); a fifth of the timeout keeps the cut close to the promise.
    connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(t.headersTimeoutMs / 5))),
    // Handled below with a coded answer instead of Node's bare 400.
    requireHostHeader: false,
  };
}

/** A complete HTTP/1.1 answer carrying a coded error, for a raw socket. */
export function codedAnswer(err: GateError): Buffer {
  const body = JSON.stringify(err.toJSON());
  const extra = Object.entries(err.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.from(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    'latin1',
  );
}

function refuse(res: ServerResponse, err: GateError): void {
  const body = JSON.stringify(err.toJSON());
  res.shouldKeepAlive = false;
  res.writeHead(err.status, {
    ...err.headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Host header values already found valid: the URL parse below was ~1% of a proxied request.
 * Bounded, and emptied when full, so made-up hosts cannot keep the real ones out for long.
 */
const validHosts = new Set<string>();

/** Whether `host` is a valid host[:port] (ports 1 to 65535), as the URL parser reads it back. */
function validHost(host: string): boolean {
  if (validHosts.has(host)) return true;
  let ok = false;
  try {
    ok = /^[^@/\\?#\s]+$/.test(host) && new URL(`http://${host}/`).host === host.toLowerCase().replace(/:80$/, '');
  } catch {
    ok = false;
  }
  if (ok) {
    if (validHosts.size >= 1000) validHosts.clear();
    validHosts.add(host);
  }
  return ok;
}

/** The framing/request-line reasons to refuse `req` before the core sees it, or null. */
export function framingError(req: IncomingMessage): GateError | null {
  let hosts = 0;
  // Only a four-letter name can be Host: no lower-cased copy of every other name (this runs on every request).
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  if (req.httpVersion === '1.0' && req.headers['transfer-encoding'] !== undefined) {
    return new GateError('bad_request', 'HTTP/1.0 has no Transfer-Encoding (RFC 9112 §6.1): the framing of this request is faulty.');
  }
  if (hosts > 1) return new GateError('invalid_host', 'One Host header, please (RFC 9112 §3.2).');
  if (hosts === 0 && req.httpVersion !== '1.0') return new GateError('invalid_host', 'An HTTP/1.1 request needs a Host header (RFC 9112 §3.2).');
  const host = req.headers.host;
  if (host !== undefined && !validHost(host)) {
    return new GateError('invalid_host', 'The Host header is not a valid host[:port] (ports are 1 to 65535).');
  }
  const target = req.url ?? '';
  const query = target.indexOf('?');
  if (target.lastIndexOf('\\', query < 0 ? Infinity : query - 1) >= 0) return new GateError('bad_request', 'A backslash is not allowed in a request path.');
  if (!target.startsWith('/') && !/^https?:\/\//i.test(target)) return new GateError('bad_request', 'The request target must be an absolute path.');
  return null;
}

/** Node's parser errors (`clientError`) → the coded answer. */
function clientErrorOf(err: NodeJS.ErrnoException): GateError {
  switch (err.code) {
    case 'HPE_INVALID_METHOD':
      return new GateError('not_implemented', 'Unknown HTTP method.');
    case 'HPE_HEADER_OVERFLOW':
      return new GateError('headers_too_large', 'The request headers are too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GateError('request_timeout', 'The request headers did not arrive in time.');
    default:
      return new GateError('bad_request', 'Malformed HTTP request.');
  }
}

/** Cuts a request whose body stops moving for `ms` (408 when nothing was answered yet). */
function watchBodyIdle(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || ms <= 0) return;
  const socket = req.socket;
  // A 'timeout' listener on the request keeps Node's own socket handler from destroying first.
  const onTimeout = () => {
    if (!res.headersSent) {
      socket.end(codedAnswer(new GateError('request_timeout', `The request body stopped arriving for ${Math.round(ms / 1000)} s.`)));
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  };
  const done = () => {
    req.off('timeout', onTimeout);
    // Once the answer is complete Node sets its keep-alive timer on the socket: leave that one.
    if (!res.writableFinished && !socket.destroyed) socket.setTimeout(0);
  };
  req.on('timeout', onTimeout);
  socket.setTimeout(ms);
  req.once('end', done);
  req.once('close', done);
}

/**
 * `createServer` for @hono/node-server's `createAdaptorServer`: the same server, with the
 * refusals and timers above in front of the core's listener. `lane` (direct-lane.ts) sees every
 * request that passed them first, and takes it or leaves it to the listener (which it may also
 * call itself, as `next`).
 */
export function guardedServer(t: EdgeTimeouts, lane?: (req: IncomingMessage, res: ServerResponse, next: RequestListener) => boolean) {
  return (options: ServerOptions, listener: RequestListener): Server => {
    const refused = new WeakSet<Socket>();
    const server = createServer(options, (req, res) => {
      // Pipelined behind a refused request: the connection closes after that refusal.
      if (refused.has(req.socket)) return;
      const bad = framingError(req);
      if (bad) {
        refused.add(req.socket);
        return refuse(res, bad);
      }
      watchBodyIdle(req, res, t.bodyIdleTimeoutMs);
      if (lane?.(req, res, listener)) return;
      return listener(req, res);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (inFlight?.headersSent) return socket.destroy();
      socket.end(codedAnswer(clientErrorOf(err)));
      setTimeout(() => socket.destroy(), 1000).unref();
    });
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      socket.end(
        codedAnswer(
          new GateError('method_not_allowed', 'CONNECT is not served: the gateway opens no tunnels.', {
            allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
          }),
        ),
      );
    });
    return server;
  };
}
