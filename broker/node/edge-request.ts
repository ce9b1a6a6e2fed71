/**
 * The request the core sees on the Node edge's own lane (direct-lane.ts): a bodyless GET or HEAD
 * as a view that reads like a fetch `Request` (method, url, headers, signal, the body methods)
 * without @hono/node-server's adapter around it. Its headers are a HeaderList of the client's
 * `rawHeaders` (Fetch's Headers semantics, core/http/header-list.ts; parsed-headers.ts), made on first read; its
 * signal is made only if someone asks (fetch-upstream.ts listens to the cheaper ClientAbort
 * hook instead) and aborts when the client leaves, as @hono/node-server's does. Anything else
 * (`clone()`, `text()`, the rarely read fields) is answered by a real Request, built once.
 */
import type { IncomingMessage } from 'node:http';
import type { AbortLike } from '../core/contracts.js';
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
  constructor(incoming: IncomingMessage, method: string, url: string, abort: AbortLike) {
    this.#incoming = incoming;
    this.method = method;
    this.url = url;
    this.#abort = abort;
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
  /** A GET or HEAD has no body (Fetch): whatever a client sent with one is never read nor forwarded. */
  get body(): null {
    return null;
  }
  get bodyUsed(): boolean {
    return false;
  }
  /** The equivalent fetch Request (made once, sharing this view's headers and signal). */
  native(): Request {
    this.#native ??= new Request(this.url, { method: this.method, headers: this.headers, signal: this.signal });
    return this.#native;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.native().arrayBuffer();
  }
  text(): Promise<string> {
    return this.native().text();
  }
  json(): Promise<unknown> {
    return this.native().json();
  }
  blob(): Promise<Blob> {
    return this.native().blob();
  }
  formData(): Promise<FormData> {
    return this.native().formData();
  }
  clone(): Request {
    return this.native().clone();
  }
}
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
 * The client's bodyless `method` request for `url` (absolute, already parsed by the lane) as the
 * core's Request; `abort` is the edge's hook for the client leaving.
 */
export function edgeRequest(incoming: IncomingMessage, method: string, url: string, abort: AbortLike): Request {
  // Chained to the Request of the moment (@hono/node-server replaces the global one with its own
  // subclass of the runtime's), so `instanceof Request` holds either way (as lazy-response.ts does).
  if (edgeRequestParent !== Request.prototype) {
    edgeRequestParent = Request.prototype;
    Object.setPrototypeOf(EdgeRequest.prototype, Request.prototype);
  }
  edgeRequestStats.made++;
  return new EdgeRequest(incoming, method, url, abort) as unknown as Request;
}
