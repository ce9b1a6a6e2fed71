/**
 * The Node edge's own lane for the most common request of a dev loop: a GET or HEAD for an app
 * on a preview origin. It skips @hono/node-server's adapter (its request object and URL check,
 * a close listener and its closure, the async answer writer that reads our already-sent answer
 * back: ~9 µs of a ~190 µs request, docs/benchmarks.md "Round 7") and calls the core's
 * `handle` itself, with a request view (edge-request.ts) and the URL it parsed once.
 *
 * The core decides exactly as for every other request: the lane changes who builds the request
 * object and who writes the usual answer (handover.ts `sendDirect`, as before), nothing that is
 * checked. An answer without a body (a 304, a HEAD's, a redirect) is written by `sendBodyless`;
 * any other answer sendDirect does not take (a coded refusal, an answer the core rebuilt) is
 * handed back to @hono/node-server's listener, which writes it as it writes every other answer
 * (`handedBack` gives it to server.ts's fetch callback). Requests
 * with a body, absolute-form targets and anything not for an app on a preview origin never
 * enter the lane. `laneStats` counts both outcomes (test/gateway/direct-lane.test.ts).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { GateError } from '../../protocol/index.js';
import type { Gateway } from '../core/gateway.js';
import { errorResponse } from '../core/http/respond.js';
import { ClientAbort } from './client-abort.js';
import { edgeRequest } from './edge-request.js';
import { sendBodyless, sendDirect } from './handover.js';

/** Requests the lane took, and of those the answers it handed back to @hono/node-server's writer. */
export const laneStats = { taken: 0, handedBack: 0 };

/** The core's answer to a lane request, waiting on the request for @hono/node-server's listener. */
const ANSWER = Symbol('preview-gate.lane-answer');
type Carrier = IncomingMessage & { [ANSWER]?: Response | undefined };

/** The answer the lane handed back with this request (read once), if it did. */
export function handedBack(incoming: IncomingMessage | undefined): Response | undefined {
  const answer = (incoming as Carrier | undefined)?.[ANSWER];
  if (answer !== undefined) (incoming as Carrier)[ANSWER] = undefined;
  return answer;
}

export interface DirectLaneOptions {
  /** The core, once it is built (null while the gateway starts: those requests take the usual way). */
  gateway: () => Gateway | null;
  /** The client's address as server.ts resolves it (the socket's peer, or X-Forwarded-For through trusted proxies). */
  clientAddress: (remote: string | undefined, forwardedFor: string | string[] | undefined) => string | undefined;
}

/**
 * The lane, for edge-guards.ts `guardedServer`: true when it took the request (it answers it,
 * now or through `next`), false to let `next` (@hono/node-server's listener) have it.
 */
export function createDirectLane(opts: DirectLaneOptions): (incoming: IncomingMessage, outgoing: ServerResponse, next: RequestListener) => boolean {
  return (incoming, outgoing, next) => {
    const gateway = opts.gateway();
    const method = incoming.method;
    if (gateway === null || (method !== 'GET' && method !== 'HEAD')) return false;
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
    const clientAbort = new ClientAbort(incoming, outgoing);
    const request = edgeRequest(incoming, method, url.href, clientAbort);
    // The same bindings server.ts's fetch callback gives the core (broker/core/http/client-address.ts, proxy.ts).
    const env = {
      incoming,
      outgoing,
      clientAddress: opts.clientAddress(incoming.socket?.remoteAddress, incoming.headers['x-forwarded-for']),
      clientAbort,
      rawHeaders: incoming.rawHeaders,
    };
    const handBack = (answer: Response) => {
      laneStats.handedBack++;
      (incoming as Carrier)[ANSWER] = answer;
      next(incoming, outgoing);
    };
    gateway.handle(request, env, url).then(
      (answer) => {
        if (!sendDirect(answer, outgoing) && !sendBodyless(answer, outgoing)) handBack(answer);
      },
      // `handle` answers its own failures; this is for a bug in it, answered in the error model.
      () => handBack(errorResponse(new GateError('internal', 'The gateway failed on this request.'), request)),
    );
    return true;
  };
}
