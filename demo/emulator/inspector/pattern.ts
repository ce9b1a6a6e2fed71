/**
 * The deterministic byte pattern of `GET /download?bytes=N`: byte i is `i % 251` (a prime, so
 * the pattern does not align with power-of-two chunk sizes and a dropped or repeated chunk
 * changes the digest). Chunks are views of one shared buffer: generating 50 MB allocates nothing.
 */
import { createHash } from 'node:crypto';

const PERIOD = 251;
export const CHUNK_SIZE = 64 * 1024;
const BASE = Buffer.alloc(CHUNK_SIZE + PERIOD);
for (let i = 0; i < BASE.length; i++) BASE[i] = i % PERIOD;

/** `n` bytes of the pattern starting at absolute offset `offset` (n ≤ CHUNK_SIZE). A view, do not mutate. */
export function patternChunk(offset: number, n: number): Buffer {
  const start = offset % PERIOD;
  return BASE.subarray(start, start + n);
}

/** The SHA-256 (hex) of the first `bytes` bytes of the pattern, for tests. */
export function patternSha256(bytes: number): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < bytes; sent += CHUNK_SIZE) hash.update(patternChunk(sent, Math.min(CHUNK_SIZE, bytes - sent)));
  return hash.digest('hex');
}
