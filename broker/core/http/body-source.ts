/**
 * A small request body that the runtime edge reads for the core, without a Web stream: the
 * usual POST of an app's API call. On Node, reaching `request.body` of @hono/node-server's
 * request builds a fetch Request with an AbortSignal (createAbortSignal, makeTransferable) and a
 * ReadableStream over the socket: a small POST cost about twice a GET (docs/benchmarks.md,
 * "Round 6"). The edge (broker/node/handover.ts withDirectBody) attaches a source to a request
 * whose declared Content-Length fits the replay limit; forwardRequest and the upstream side's
 * prepareBody (upstream/retry.ts) read the bytes from it, after authentication as before: nothing
 * is read from the client until the request is let through. `bodySourceStats` counts the bodies
 * read this way (test/gateway/node-direct.test.ts).
 */

export interface BodySource {
  /** The declared length (Content-Length) in bytes. */
  readonly length: number;
  /** The whole body (the same promise on every call); rejects when the client leaves before its end. */
  read(): Promise<Uint8Array>;
}

/** Kept on the request under a private symbol, like its host (request-host.ts). */
const BODY = Symbol('preview-gate.body-source');
type Marked = { [BODY]?: BodySource };

/** How many request bodies were read from a source instead of a stream. */
export const bodySourceStats = { read: 0 };

export function attachBodySource(req: object, source: BodySource): void {
  (req as Marked)[BODY] = source;
}

export function bodySourceOf(req: object): BodySource | undefined {
  return (req as Marked)[BODY];
}

/** The bytes of a source, counted (the one place the core reads a source). */
export function readBodySource(source: BodySource): Promise<Uint8Array> {
  bodySourceStats.read++;
  return source.read();
}

/** A source as a one-chunk stream, for whoever asks for a body stream after all (a full Request). */
export function streamOfSource(source: BodySource): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const bytes = await source.read();
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
