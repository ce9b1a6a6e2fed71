/**
 * Reading the start of a body without losing the rest. upstream/daytona-answers.ts peeks at an error
 * body small enough to be Daytona's JSON, and upstream/retry.ts keeps a small request body for one
 * repeat: both read up to a limit and, past it, must still hand on a body equal to the original:
 * the chunks already read, then the rest, still streaming (no copy, no buffering).
 * http/body.ts uses it to refuse a JSON body past its limit (it cancels the rest).
 *
 * Portable (web streams only): broker/core never imports `node:`.
 */
export type ReadUpTo =
  | { complete: true; bytes: Uint8Array } // the whole stream, at most `limit` bytes
  | { complete: false; stream: ReadableStream<Uint8Array> }; // over the limit: read part + rest

/**
 * Reads `stream` until it ends or more than `limit` bytes have come.
 *
 * @example
 * const read = await readUpTo(request.body, 1024 * 1024);
 * const body = read.complete ? read.bytes : read.stream;
 */
export async function readUpTo(stream: ReadableStream<Uint8Array>, limit: number): Promise<ReadUpTo> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) return { complete: false, stream: prefixedStream(chunks, reader) };
  }
  return { complete: true, bytes: concat(chunks, size) };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A stream that yields `prefix` and then whatever `reader` still has. */
function prefixedStream(prefix: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  const queue = [...prefix];
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = queue.shift();
      if (next) {
        controller.enqueue(next);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
