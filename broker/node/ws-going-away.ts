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

/** Follows frame boundaries in a byte stream; `feed` answers how many bytes end the current frame. */
class FrameTracker {
  private header: number[] = [];
  private left = 0;

  get atBoundary(): boolean {
    return this.left === 0 && this.header.length === 0;
  }

  /** Consumes `chunk`; when `stopAtBoundary`, stops at the first boundary and returns the bytes consumed. */
  feed(chunk: Buffer, stopAtBoundary: boolean): number {
    let i = 0;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - i);
        this.left -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i]!);
      i += 1;
      const h = this.header;
      if (h.length < 2) continue;
      const len7 = h[1]! & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1]! & 0x80 ? 4 : 0);
      if (h.length < need) continue;
      let len = len7;
      if (len7 === 126) len = (h[2]! << 8) | h[3]!;
      else if (len7 === 127) len = h.slice(2, 10).reduce((acc, b) => acc * 256 + b, 0);
      this.header = [];
      this.left = len;
    }
    return i;
  }
}

/**
 * Writes `head` (bytes that came with Daytona's 101) then pipes `upstream` into `client` with
 * backpressure, like `upstream.pipe(client)`, and returns the handle that closes it with 1001.
 */
export function pipeFrames(upstream: Duplex, client: Duplex, head: Buffer): GoingAway {
  const tracker = new FrameTracker();
  let closing: string | null = null;
  let done = false;

  const finish = (): void => {
    if (done) return;
    done = true;
    upstream.off('data', onData);
    client.unpipe(); // the client's reply to our close frame goes nowhere
    client.resume();
    client.write(closeFrame(1001, closing ?? 'going away'));
    client.end();
    setTimeout(() => client.destroy(), 1_000).unref();
    upstream.destroy();
  };

  const forward = (chunk: Buffer): void => {
    if (done) return;
    if (closing === null) {
      tracker.feed(chunk, false);
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
      return;
    }
    const n = tracker.feed(chunk, true);
    if (n > 0) client.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (tracker.atBoundary) finish();
  };
  const onData = (chunk: Buffer): void => forward(chunk);

  if (head.length > 0) forward(head);
  upstream.on('data', onData);
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
