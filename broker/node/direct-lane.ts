/**
 * The Node edge's own lane for the requests of a dev loop: a GET, HEAD, POST, PUT, PATCH, DELETE
 * or OPTIONS for an app on a preview origin. It skips @hono/node-server's adapter (its request
 * object and URL check, a close listener and its closure, the async answer writer that reads our
 * already-sent answer back: ~9 µs of a ~190 µs request, docs/benchmarks.md "Round 7") and calls
 * the core's `handle` itself, with a request view (edge-request.ts) and the URL it parsed once.
 *
 * The core decides exactly as for every other request: the lane changes who builds the request
 * object and who writes the usual answer (handover.ts `sendDirect`, as before), nothing that is
 * checked. An answer without a body (a 304, a HEAD's, the gateway's own redirect) is written by
 * `sendBodyless`; any other answer sendDirect does not take (a coded refusal, an answer the core
 * rebuilt) is handed back to @hono/node-server's listener, which writes it as it writes every
 * other answer (`handedBack` gives it to server.ts's fetch callback). A body reaches the core as
 * it does outside the lane (handover.ts `edgeBody`: a source for a small declared body, else a
 * stream the upstream side may pipe). Other methods, absolute-form targets and anything not for
 * an app on a preview origin never enter the lane. `laneStats` counts what it took, handed back
 * and drained (test/gateway/direct-lane.test.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { GateError } from '../../protocol/index.js';
import type { Gateway } from '../core/gateway.js';
import { errorResponse } from '../core/http/respond.js';
import { ClientAbort } from './client-abort.js';
import { edgeRequest } from './edge-request.js';
import { edgeBody, sendBodyless, sendDirect } from './handover.js';

/** Requests the lane took, of those the answers it handed back to @hono/node-server's writer, and the unread bodies it drained. */
export const laneStats = { taken: 0, handedBack: 0, drained: 0 };

/** The core's answer to a lane request, waiting on the request for @hono/node-server's listener. */
const ANSWER = Symbol('preview-gate.lane-answer');
type Carrier = IncomingMessage & { [ANSWER]?: Response | undefined };

/** The answer the lane handed back with this request (read once), if it did. */
export function handedBack(incoming: IncomingMessage | undefined): Response | undefined {
  const answer = (incoming as Carrier | undefined)?.[ANSWER];
  if (answer !== undefined) (incoming as Carrier)[ANSWER] = undefined;
  return answer;
}

/** How long, and how many bytes, a body nobody read is drained after its answer before the connection is closed instead (as @hono/node-server does). */
const DRAIN_MS = 500;
const DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * A request body still unread once its answer is complete (the app answered before reading an
 * upload, or the core refused it): read and dropped so the keep-alive connection can serve the
 * next request, for at most DRAIN_MS and DRAIN_BYTES; past either, the connection is closed.
 * Deferred twice, as @hono/node-server's, so a reader still finishing gets there first.
 */
function drainUnread(incoming: IncomingMessage): void {
  if (incoming.readableEnded || incoming.destroyed) return;
  setTimeout(() =>
    setTimeout(() => {
      if (incoming.readableEnded || incoming.destroyed) return;
      laneStats.drained++;
      let bytes = 0;
      const close = () => {
        cleanup();
        incoming.socket?.destroySoon();
      };
      const timer = setTimeout(close, DRAIN_MS);
      timer.unref();
      const onData = (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > DRAIN_BYTES) close();
      };
      const cleanup = () => {
        clearTimeout(timer);
        incoming.off('data', onData);
        incoming.off('end', cleanup);
        incoming.off('error', cleanup);
      };
      incoming.on('data', onData);
      incoming.on('end', cleanup);
      incoming.on('error', cleanup);
      incoming.resume();
    }),
  );
}

/** The methods the lane takes (the core forwards them as a view, forward-request.ts); others keep @hono/node-server's Request and its checks. */
const LANE_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The client's address as server.ts resolves it (the socket's peer, or X-Forwarded-For through trusted proxies). */
export type ClientAddressOf = (remote: string | undefined, forwardedFor: string | string[] | undefined) => string | undefined;

/** What the core reads of a request from the Node edge beside the request itself (its `env`). */
export interface EdgeBindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  clientAddress: string | undefined;
  clientAbort: ClientAbort;
  rawHeaders: readonly string[];
}

/**
 * Puts on `env` (the request's own bindings object, not a copy) what the core reads of a request
 * from the Node edge, for the lane and for server.ts's adapter callback alike: the client's
 * address (core/http/client-address.ts), the hook for the client leaving (client-abort.ts: cheaper
 * than the request's AbortSignal), and the fields as received (forward-request.ts sanitizeHeaders
 * reads them instead of iterating `request.headers`, which would copy them into a Fetch Headers).
 */
export function bindRequest<T extends object>(env: T, incoming: IncomingMessage, outgoing: ServerResponse, clientAddress: ClientAddressOf): T & EdgeBindings {
  const e = env as T & EdgeBindings;
  e.incoming = incoming;
  e.outgoing = outgoing;
  e.clientAddress = clientAddress(incoming.socket?.remoteAddress, incoming.headers['x-forwarded-for']);
  e.clientAbort = new ClientAbort(incoming, outgoing);
  e.rawHeaders = incoming.rawHeaders;
  return e;
}

export interface DirectLaneOptions {
  /** The core, once it is built (null while the gateway starts: those requests take the usual way). */
  gateway: () => Gateway | null;
  clientAddress: ClientAddressOf;
  /** Bodies up to this many bytes are kept for a retry (GATE_UPSTREAM_REPLAY_LIMIT). */
  replayLimit: number;
}

/**
 * The lane, for edge-guards.ts `guardedServer`: true when it took the request (it answers it,
 * now or through `next`), false to let `next` (@hono/node-server's listener) have it.
 */
export function createDirectLane(opts: DirectLaneOptions): (incoming: IncomingMessage, outgoing: ServerResponse, next: RequestListener) => boolean {
  return (incoming, outgoing, next) => {
    const gateway = opts.gateway();
    const method = incoming.method;
    if (gateway === null || method === undefined || !LANE_METHODS.has(method)) return false;
    const target = incoming.url;
    const host = incoming.headers.host;
    // Origin-form only (edge-guards.ts has refused anything else but absolute-form, which
    // @hono/node-server reads its own way); a valid Host, checked by edge-guards.ts too.
    if (target?.charCodeAt(0) !== 0x2f || !host) return false;
    let url: URL;
    try {
      url = new URL(`${(incoming.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${host}${target}`);
    } catch {
      return false;
    }
    if (!gateway.takesDirectPath(url)) return false;
    laneStats.taken++;
    const env = bindRequest({}, incoming, outgoing, opts.clientAddress);
    const bodyless = method === 'GET' || method === 'HEAD';
    const request = edgeRequest(incoming, method, url.href, env.clientAbort, bodyless ? null : edgeBody(incoming, opts.replayLimit));
    const handBack = (answer: Response) => {
      laneStats.handedBack++;
      (incoming as Carrier)[ANSWER] = answer;
      next(incoming, outgoing);
    };
    gateway.handle(request, env, url).then(
      (answer) => {
        if (sendDirect(answer, outgoing) || sendBodyless(answer, outgoing)) {
          if (!bodyless) outgoing.once('close', () => drainUnread(incoming));
        } else handBack(answer);
      },
      // `handle` answers its own failures; this is for a bug in it, answered in the error model.
      () => handBack(errorResponse(new GateError('internal', 'The gateway failed on this request.'), request)),
    );
    return true;
  };
}
