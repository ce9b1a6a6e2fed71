/**
 * Daytona's answer as a Response whose body stays in Daytona's socket until someone asks for it
 * (ARCHITECTURE.md flow 3): the usual answer is handed over to the client's socket by the edge
 * (handover.ts#sendDirect) without a Web stream ever being made. `handoverStats.lazy` counts the
 * answers handed over this way (test/gateway/node-lazy-response.test.ts).
 */
import type { IncomingMessage } from 'node:http';
import { answerBodyFromNative } from '../core/http/native-body.js';
import { bodyStream, handoverStats, registerHandover, registerResponse, takeNodeBody, type NodeBody } from './handover.js';

/** What a body handed over before anyone asked for its stream reads as, if someone asks later. */
function handedOver(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.error(new TypeError('the body was handed over to the client connection'));
    },
  });
}

/**
 * Daytona's answer as a Response whose body stays Daytona's IncomingMessage until someone asks
 * for it (`body`, `text()`, `clone()`, ...): only then is its Web stream made (`bodyStream`).
 * On the usual path nobody does (the core reads status and headers, the edge's sendDirect
 * takes the message), so no ReadableStream, controller and queue are made per request.
 * `headers` is one mutable Headers the core may clean in place; `instanceof Response` holds.
 */
class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  #src: IncomingMessage;
  #release: () => void;
  #native: Response | null = null;
  #taken = false;
  constructor(src: IncomingMessage, release: () => void, init: { status: number; statusText: string; headers: Headers }) {
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.#src = src;
    this.#release = release;
    registerHandover(this, () => this.#take());
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get redirected(): boolean {
    return false;
  }
  get type(): ResponseType {
    return 'default';
  }
  get url(): string {
    return '';
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.native().body;
  }
  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? false;
  }
  /** The equivalent Response around a `bodyStream` (made once; it shares `headers`). */
  native(): Response {
    if (this.#native === null) {
      const body = this.#taken ? handedOver() : bodyStream(this.#src, this.#release);
      this.#native = new Response(body, { status: this.status, statusText: this.statusText, headers: this.headers });
      registerResponse(this.#native, body);
    }
    return this.#native;
  }
  /** takeNodeBody's answer: the message itself while nobody asked for the stream, else the stream's own rule. */
  #take(): NodeBody | null {
    if (this.#native !== null) return takeNodeBody(this.#native);
    if (this.#taken) return null;
    const src = this.#src;
    if (src.destroyed) return null; // cut off: the stream path reports it as an error
    this.#taken = true;
    handoverStats.lazy++;
    const chunks: Buffer[] = [];
    // Complete (the whole body parsed and buffered, the usual small answer): read it now, so the
    // edge writes headers and body at once with a Content-Length.
    const ended = src.complete;
    if (ended) {
      for (let chunk: Buffer | null = src.read(); chunk !== null; chunk = src.read()) chunks.push(chunk);
      this.#release();
    }
    return { res: src, chunks, ended, release: this.#release };
  }
}
// arrayBuffer, text, json, blob, formData, clone: answered by native() (the view is only ever used as a Response).
answerBodyFromNative(NodeResponse);
let nodeResponseParent: object | null = null;

/**
 * Daytona's answer with its body left in `src` until asked for (see NodeResponse); `release`
 * is called once the body is done with (end, error, cancel, or read whole by a handover).
 */
export function nodeResponse(src: IncomingMessage, release: () => void, init: { status: number; statusText: string; headers: Headers }): Response {
  // Chained to the Response of the moment (@hono/node-server replaces the global one with its
  // own, itself a subclass of the runtime's), so `instanceof Response` holds either way.
  if (nodeResponseParent !== Response.prototype) {
    nodeResponseParent = Response.prototype;
    Object.setPrototypeOf(NodeResponse.prototype, Response.prototype);
  }
  return new NodeResponse(src, release, init) as unknown as Response;
}
