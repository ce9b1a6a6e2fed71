/**
 * When a request may be sent to Daytona a second time.
 *
 * Daytona rejects a rotated token (the sandbox restarted) with a 307 to its identity provider
 * *after* the request went out. The gateway then fetches a fresh link and repeats the request
 * once, which needs the body again. Policy:
 *
 * - no body (GET, HEAD, most DELETEs): always repeatable;
 * - a body of at most `replayLimit` bytes (default 1 MiB) is read into memory before it is sent
 *   (a declared `Content-Length` above the limit skips the attempt), so it can be sent twice;
 * - a larger (or longer) body streams straight through with no copy and no retry: the client
 *   gets a 503 `daytona_unavailable` with `Retry-After`, and the link is already refreshed for its
 *   retry. Memory stays flat for uploads of any size.
 *
 * Buffering only small bodies (rather than teeing every body) keeps the hot path zero-copy for
 * large uploads; 1 MiB per in-flight request bounds the extra memory.
 */
import { readUpTo } from '../streams/read-up-to.js';
import { bodySourceOf, readBodySource } from '../http/body-source.js';

export const DEFAULT_REPLAY_LIMIT = 1024 * 1024;

export type PreparedBody = { replayable: true; bytes: Uint8Array | null } | { replayable: false; stream: ReadableStream<Uint8Array> };

export async function prepareBody(request: Request, replayLimit: number): Promise<PreparedBody> {
  // A small body the edge reads for us (http/body-source.ts): its bytes, no stream.
  const source = request.method === 'GET' || request.method === 'HEAD' ? undefined : bodySourceOf(request);
  if (source !== undefined && source.length <= replayLimit) return { replayable: true, bytes: await readBodySource(source) };
  const body = request.body;
  if (body === null || request.method === 'GET' || request.method === 'HEAD') return { replayable: true, bytes: null };
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > replayLimit) return { replayable: false, stream: body };
  const read = await readUpTo(body, replayLimit);
  return read.complete ? { replayable: true, bytes: read.bytes } : { replayable: false, stream: read.stream };
}
