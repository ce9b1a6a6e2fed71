/**
 * Closing a relayed WebSocket on purpose (graceful shutdown, broker/node/drain.ts): the client
 * gets a close frame 1001 "going away" with a reason, so a browser app sees a clean close and
 * reconnects (through the load balancer, to another instance), instead of a 1006 reset.
 *
 * The relay (ws/splice.ts) passes bytes without parsing frames, so a close frame can only be
 * inserted between two frames: `pipeFrames` replaces `upstream.pipe(client)` and follows the
 * frame boundaries of the server-to-client stream (RFC 6455 §5.2 headers only; payloads are
 * skipped by length, never read, so extensions such as permessage-deflate pass untouched).
 * A control frame may sit between the fragments of a message (§5.4), so any boundary will do.
 */
import type { Duplex } from 'node:stream';

export interface GoingAway {
  /** Ends the connection with close code 1001 and `reason` (≤ 123 bytes) at the next frame boundary. */
  goAway(reason: string): void;
}

/** Longest a going-away waits for the current frame to end before the sockets are cut. */
const FRAME_END_WAIT_MS = 2_000;

/** A server-to-client close frame (unmasked, §5.5.1): code 1001 and a UTF-8 reason. */
export function closeFrame(code: number, reason: string): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = text.subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88; // FIN + opcode 8 (close)
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/**
 * Follows the frame boundaries of a byte stream (RFC 6455 §5.2), reading headers only: a
 * payload is skipped by its length in one step, however many chunks it spans, and never read.
 * All state is numbers, so following a stream allocates nothing, per frame or per chunk.
 * Lengths are 7-bit, 16-bit or 64-bit (the last exact up to 2^53 bytes, beyond any real frame);
 * a masking key (a client's frame) is skipped like a payload.
 */
export class FrameTracker {
  /** Payload bytes of the current frame still to come. */
  private left = 0;
  /** Header bytes of the current frame seen so far (0: no header begun). */
  private seen = 0;
  /** The current header's full size, once its second byte is known (else 0). */
  private size = 0;
  /** Where its extended length ends (2, 4 or 10) and the length read so far. */
  private lengthEnd = 0;
  private length = 0;

  get atBoundary(): boolean {
    return this.left === 0 && this.seen === 0;
  }

  /**
   * Consumes `chunk`; when `stopAtBoundary`, stops at the first boundary (before the next
   * frame's header) and returns the bytes consumed up to it; otherwise returns `chunk.length`.
   */
  feed(chunk: Uint8Array, stopAtBoundary: boolean): number {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.left > 0) {
        const rest = n - i;
        if (this.left >= rest) {
          this.left -= rest;
          return n;
        }
        i += this.left;
        this.left = 0;
        continue;
      }
      if (this.seen === 0) {
        if (stopAtBoundary) return i;
        // The usual case: the whole header is in this chunk, read it in place.
        if (i + 1 < n) {
          const b1 = chunk[i + 1]!;
          const len7 = b1 & 0x7f;
          const size = (len7 === 126 ? 4 : len7 === 127 ? 10 : 2) + (b1 & 0x80 ? 4 : 0);
          if (i + size <= n) {
            if (len7 < 126) this.left = len7;
            else if (len7 === 126) this.left = (chunk[i + 2]! << 8) | chunk[i + 3]!;
            else this.left = uint32(chunk, i + 2) * 0x1_0000_0000 + uint32(chunk, i + 6);
            i += size;
            continue;
          }
        }
      }
      // A header split across chunks: one byte at a time.
      this.headerByte(chunk[i]!);
      i += 1;
    }
    return i;
  }

  private headerByte(b: number): void {
    const k = this.seen++;
    if (k === 0) return;
    if (k === 1) {
      const len7 = b & 0x7f;
      this.lengthEnd = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      this.size = this.lengthEnd + (b & 0x80 ? 4 : 0);
      this.length = len7 < 126 ? len7 : 0;
    } else if (k < this.lengthEnd) {
      this.length = this.length * 256 + b;
    }
    if (this.seen === this.size) {
      this.left = this.length;
      this.seen = 0;
      this.size = 0;
    }
  }
}

function uint32(b: Uint8Array, at: number): number {
  return b[at]! * 0x100_0000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * Writes `head` (bytes that came with Daytona's 101) then pipes `upstream` into `client` with
 * backpressure, like `upstream.pipe(client)`, and returns the handle that closes it with 1001.
 */
export function pipeFrames(upstream: Duplex, client: Duplex, head: Buffer): GoingAway {
  const tracker = new FrameTracker();
  let closing: string | null = null;
  let done = false;
  let paused = false;

  const finish = (): void => {
    if (done) return;
    done = true;
    upstream.off('data', forward);
    client.unpipe(); // the client's reply to our close frame goes nowhere
    client.resume();
    client.write(closeFrame(1001, closing ?? 'going away'));
    client.end();
    setTimeout(() => client.destroy(), 1_000).unref();
    upstream.destroy();
  };

  // Backpressure as pipe() does it: a full client buffer pauses the upstream until 'drain'
  // (one listener for the connection's life, not one per pause).
  const onDrain = (): void => {
    if (!paused) return;
    paused = false;
    upstream.resume();
  };
  const forward = (chunk: Buffer): void => {
    if (closing === null) {
      tracker.feed(chunk, false);
      if (!client.write(chunk) && !paused) {
        paused = true;
        upstream.pause();
      }
      return;
    }
    if (done) return;
    const n = tracker.feed(chunk, true);
    if (n > 0) client.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (tracker.atBoundary) finish();
  };

  if (head.length > 0) forward(head);
  client.on('drain', onDrain);
  upstream.on('data', forward);
  upstream.once('end', () => {
    if (!done) client.end();
  });

  return {
    goAway(reason: string) {
      if (done || closing !== null) return;
      closing = reason;
      if (tracker.atBoundary) return finish();
      upstream.resume();
      // A frame that never ends (stalled upstream or client): cut both sockets.
      setTimeout(() => {
        if (done) return;
        done = true;
        client.destroy();
        upstream.destroy();
      }, FRAME_END_WAIT_MS).unref();
    },
  };
}
