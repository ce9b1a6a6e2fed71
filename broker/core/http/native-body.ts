/**
 * The lightweight views that stand in for a fetch `Request` or `Response` on the hot path
 * (forward-request.ts ForwardedRequest, broker/node/edge-request.ts, broker/node/lazy-response.ts)
 * read their own fields, and answer everything that consumes or copies the body with the real
 * object they build once on first use (`native()`). This gives a view class those methods.
 */

/** What a view has: the equivalent fetch object, built once. */
export interface HasNative {
  native(): Request | Response;
}

/** The body methods a Request and a Response share. */
const METHODS = ['arrayBuffer', 'text', 'json', 'blob', 'formData', 'clone'] as const;

/** Gives `view` (a class) `arrayBuffer`, `text`, `json`, `blob`, `formData` and `clone`, each answered by `native()`. */
export function answerBodyFromNative(view: { prototype: HasNative }): void {
  for (const method of METHODS) {
    Object.defineProperty(view.prototype, method, {
      value(this: HasNative) {
        return (this.native() as unknown as Record<string, () => unknown>)[method]!();
      },
      writable: true,
      configurable: true,
    });
  }
}

/** A fetch Request of `init` with `body` (null: none); a streamed body is sent `duplex: 'half'` (Fetch standard, required by undici). */
export function requestWithBody(url: string, init: RequestInit, body: ReadableStream<Uint8Array> | null): Request {
  if (body === null) return new Request(url, init);
  const withBody: RequestInit & { duplex: 'half' } = { ...init, body, duplex: 'half' };
  return new Request(url, withBody);
}
