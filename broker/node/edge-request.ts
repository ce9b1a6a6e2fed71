/**
 * The request the core sees on the Node edge's own lane (direct-lane.ts): a view that reads like
 * a fetch `Request` (method, url, headers, signal, body and the body methods) without
 * @hono/node-server's adapter around it. Its headers are a HeaderList of the client's
 * `rawHeaders` (Fetch's Headers semantics, core/http/header-list.ts; parsed-headers.ts), made on
 * first read; its signal is made only if someone asks (fetch-upstream.ts listens to the cheaper
 * ClientAbort hook instead) and aborts when the client leaves, as @hono/node-server's does. Its
 * body is what the lane gives it (handover.ts `edgeBody`): a body source the core reads after
 * authentication, or a stream over the client's socket made on first read. Anything else
 * (`clone()`, `text()`, the rarely read fields) is answered by a real Request, built once.
 */
import type { IncomingMessage } from 'node:http';
import type { AbortLike } from '../core/contracts.js';
import { attachBodySource, streamOfSource } from '../core/http/body-source.js';
import type { EdgeBody } from './handover.js';
import { answerBodyFromNative, requestWithBody } from '../core/http/native-body.js';
import { headersFromParser } from './parsed-headers.js';

class EdgeRequest {
  readonly method: string;
  readonly url: string;
  readonly redirect = 'follow' as const;
  #incoming: IncomingMessage;
  #abort: AbortLike;
  #headers: Headers | null = null;
  #signal: AbortSignal | null = null;
  #native: Request | null = null;
  #edgeBody: EdgeBody | null;
  #body: ReadableStream<Uint8Array> | null | undefined = undefined;
  constructor(incoming: IncomingMessage, method: string, url: string, abort: AbortLike, body: EdgeBody | null) {
    this.#incoming = incoming;
    this.method = method;
    this.url = url;
    this.#abort = abort;
    this.#edgeBody = body;
    // A small body is read through its source by the core (forward-request.ts, upstream/retry.ts).
    if (body?.source) attachBodySource(this, body.source);
  }
  get headers(): Headers {
    return (this.#headers ??= headersFromParser(this.#incoming.rawHeaders));
  }
  /** Aborted when the client leaves before its answer is complete (client-abort.ts decides when). */
  get signal(): AbortSignal {
    if (this.#signal === null) {
      const controller = new AbortController();
      const abort = this.#abort;
      if (abort.aborted) controller.abort(abort.reason);
      else abort.addEventListener('abort', () => controller.abort(abort.reason));
      this.#signal = controller.signal;
    }
    return this.#signal;
  }
  /**
   * The body as a stream, made on first read (null for a GET or HEAD: whatever a client sent with
   * one is never read nor forwarded, as Fetch has it).
   */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body === undefined) {
      const b = this.#edgeBody;
      this.#body = b === null ? null : b.source ? streamOfSource(b.source) : b.stream();
    }
    return this.#body;
  }
  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? this.#body?.locked ?? false;
  }
  /** The equivalent fetch Request (made once, sharing this view's headers, body and signal). */
  native(): Request {
    this.#native ??= requestWithBody(this.url, { method: this.method, headers: this.headers, signal: this.signal }, this.body);
    return this.#native;
  }
}
// arrayBuffer, text, json, blob, formData, clone: answered by native() (the view is only ever used as a Request).
answerBodyFromNative(EdgeRequest);
for (const field of ['cache', 'credentials', 'destination', 'integrity', 'keepalive', 'mode', 'referrer', 'referrerPolicy', 'duplex'] as const) {
  Object.defineProperty(EdgeRequest.prototype, field, {
    get(this: EdgeRequest) {
      return (this.native() as unknown as Record<string, unknown>)[field];
    },
  });
}
let edgeRequestParent: object | null = null;

/** How many requests the core saw as an edge view (tests prove the lane is taken). */
export const edgeRequestStats = { made: 0 };

/**
 * The client's `method` request for `url` (absolute, already parsed by the lane) as the core's
 * Request; `abort` is the edge's hook for the client leaving; `body` null for a GET or HEAD.
 */
export function edgeRequest(incoming: IncomingMessage, method: string, url: string, abort: AbortLike, body: EdgeBody | null): Request {
  // Chained to the Request of the moment (@hono/node-server replaces the global one with its own
  // subclass of the runtime's), so `instanceof Request` holds either way (as lazy-response.ts does).
  if (edgeRequestParent !== Request.prototype) {
    edgeRequestParent = Request.prototype;
    Object.setPrototypeOf(EdgeRequest.prototype, Request.prototype);
  }
  edgeRequestStats.made++;
  return new EdgeRequest(incoming, method, url, abort, body) as unknown as Request;
}
