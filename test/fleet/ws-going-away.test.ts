/**
 * broker/node/ws-going-away.ts: the close frame 1001 goes between two frames of the
 * server-to-client stream, never inside one, whatever the chunking and the frame sizes
 * (7-bit, 16-bit and 64-bit lengths, fragments, control frames). Real sockets: a socket pair
 * over loopback for each side, bytes compared exactly.
 */
import { describe, expect, it } from 'vitest';
import { closeFrame, pipeFrames } from '../../broker/node/ws-going-away.js';
import { frame, socketPairs } from '../support/ws-frames.js';

const pair = socketPairs();

/** upstream (the app side we write to) → relay → client (what the browser reads). */
async function relay() {
  const [appEnd, upstream] = await pair();
  const [client, browserEnd] = await pair();
  const received: Buffer[] = [];
  browserEnd.on('data', (d: Buffer) => received.push(d));
  const ended = new Promise<void>((r) => browserEnd.once('end', r));
  return { appEnd, upstream, client, browserEnd, received: () => Buffer.concat(received), ended };
}

describe('WebSocket going-away (1001) at a frame boundary', () => {
  it('passes frames through byte for byte until asked', async () => {
    const r = await relay();
    pipeFrames(r.upstream, r.client, frame(1, 3));
    const data = Buffer.concat([frame(1, 5), frame(2, 300), frame(2, 70_000)]);
    r.appEnd.write(data);
    const expected = Buffer.concat([frame(1, 3), data]);
    await expect.poll(() => r.received().length, { timeout: 10_000 }).toBe(expected.length);
    expect(r.received().equals(expected)).toBe(true);
  });

  it('asked between frames: the close frame comes at once, the app side is closed', async () => {
    const r = await relay();
    const link = pipeFrames(r.upstream, r.client, Buffer.alloc(0));
    r.appEnd.write(frame(1, 10));
    await expect.poll(() => r.received().length, { timeout: 10_000 }).toBe(12);
    const appClosed = new Promise((res) => r.appEnd.once('close', res));
    link.goAway('bye now');
    await r.ended;
    expect(r.received().equals(Buffer.concat([frame(1, 10), closeFrame(1001, 'bye now')]))).toBe(true);
    await appClosed;
  });

  it('asked inside a large frame split over many writes: the frame completes, then 1001, then nothing more', async () => {
    const r = await relay();
    const link = pipeFrames(r.upstream, r.client, Buffer.alloc(0));
    const big = frame(2, 200_000, 0x62);
    r.appEnd.write(Buffer.concat([frame(9, 2), big.subarray(0, 1000)])); // a ping, then the start of the big frame
    await expect.poll(() => r.received().length, { timeout: 10_000 }).toBe(4 + 1000);
    link.goAway('going');
    for (let off = 1000; off < big.length; off += 7_000) r.appEnd.write(big.subarray(off, Math.min(off + 7_000, big.length)));
    r.appEnd.write(frame(1, 4)); // after the boundary: must not reach the client
    await r.ended;
    expect(r.received().equals(Buffer.concat([frame(9, 2), big, closeFrame(1001, 'going')]))).toBe(true);
  });

  it('follows headers split across chunks (16-bit length) and fragmented messages', async () => {
    const r = await relay();
    const link = pipeFrames(r.upstream, r.client, Buffer.alloc(0));
    const first = frame(1, 500, 0x63, false); // a fragment, FIN clear
    const bytes = Buffer.concat([first, frame(0, 2, 0x64)]);
    // One byte at a time through the header, so the length field arrives in pieces.
    for (let i = 0; i < 6; i++) r.appEnd.write(bytes.subarray(i, i + 1));
    await expect.poll(() => r.received().length, { timeout: 10_000 }).toBe(6);
    link.goAway('split');
    r.appEnd.write(bytes.subarray(6));
    await r.ended;
    // The fragment ends at byte 504: the close frame goes there, between the fragments (RFC 6455 §5.4).
    expect(r.received().equals(Buffer.concat([first, closeFrame(1001, 'split')]))).toBe(true);
  });

  it('cuts both sockets when the frame never ends', async () => {
    const r = await relay();
    const link = pipeFrames(r.upstream, r.client, Buffer.alloc(0));
    r.appEnd.write(frame(2, 1000).subarray(0, 100));
    await expect.poll(() => r.received().length, { timeout: 10_000 }).toBe(100);
    const closed = new Promise((res) => r.browserEnd.once('close', res));
    link.goAway('stalled');
    await closed;
    expect(r.received().length).toBe(100); // no close frame inside a frame
  });
});
