/**
 * broker/node/ws-going-away.ts pipeFrames, the server-to-client half of a relayed WebSocket,
 * over real loopback sockets: backpressure (a client that does not read holds the app back; the
 * relay buffers no more than a few chunks), the app's end reaching the client, and a going-away
 * asked while the relay is held back still finishing its frame before the 1001.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { closeFrame, pipeFrames } from '../../broker/node/ws-going-away.js';
import { frame, socketPairs } from '../support/ws-frames.js';

const pair = socketPairs();

/** appEnd → upstream ⇒ relay ⇒ client → browserEnd; the browser end starts paused (not reading). */
async function sockets() {
  const [appEnd, upstream] = await pair();
  const [client, browserEnd] = await pair();
  browserEnd.pause();
  return { appEnd, upstream, client, browserEnd };
}

/** Writes `frames` from the app as fast as its socket takes them; resolves with the bytes written so far when it stalls or ends. */
function writeAll(appEnd: net.Socket, frames: Buffer[]): { written: () => number; done: Promise<void> } {
  let written = 0;
  let i = 0;
  const done = new Promise<void>((resolve) => {
    const pump = () => {
      while (i < frames.length) {
        const f = frames[i++]!;
        written += f.length;
        if (!appEnd.write(f)) return void appEnd.once('drain', pump);
      }
      resolve();
    };
    pump();
  });
  return { written: () => written, done };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lets the sockets settle (kernel buffers full, the relay held back or not), then reads how much the relay itself holds. */
async function heldBack(relay: (upstream: Duplex, client: Duplex) => void) {
  const s = await sockets();
  relay(s.upstream, s.client);
  const frames = Array.from({ length: 48 }, (_, k) => frame(2, 1024 * 1024, k));
  const app = writeAll(s.appEnd, frames);
  let last = -1;
  // Until nothing moves any more (the kernel's buffers on both hops are full).
  for (let k = 0; k < 100 && app.written() !== last; k++) {
    last = app.written();
    await wait(50);
  }
  return { s, app, frames, relayBuffered: s.client.writableLength, upstreamPaused: s.upstream.isPaused() };
}

describe('pipeFrames (ws-going-away.ts): backpressure, end, going-away when held back', () => {
  it('a client that does not read holds the app back: the relay pauses its upstream and buffers at most a few chunks; once read, every byte arrives in order', async () => {
    const { s, app, frames, relayBuffered, upstreamPaused } = await heldBack((up, cl) => pipeFrames(up, cl, Buffer.alloc(0)));
    const total = frames.reduce((a, f) => a + f.length, 0);
    expect(app.written()).toBeLessThan(total); // the app is stalled
    expect(upstreamPaused).toBe(true);
    expect(relayBuffered).toBeLessThan(1024 * 1024);
    const expected = createHash('sha256');
    for (const f of frames) expected.update(f);
    const got = createHash('sha256');
    let received = 0;
    s.browserEnd.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    s.browserEnd.resume();
    await app.done;
    await expect.poll(() => received, { timeout: 20_000 }).toBe(total);
    expect(got.digest('hex')).toBe(expected.digest('hex'));
  });

  it('positive control: a relay that writes without waiting for drain buffers tens of MB under the same stall', async () => {
    const { relayBuffered, upstreamPaused } = await heldBack((up, cl) => up.on('data', (c: Buffer) => cl.write(c)));
    expect(upstreamPaused).toBe(false);
    expect(relayBuffered).toBeGreaterThan(16 * 1024 * 1024);
  });

  it("the app's end reaches the client (half-close), after the last byte", async () => {
    const s = await sockets();
    pipeFrames(s.upstream, s.client, frame(2, 3, 0x61));
    const received: Buffer[] = [];
    s.browserEnd.on('data', (d: Buffer) => received.push(d));
    s.browserEnd.resume();
    const ended = new Promise<void>((r) => s.browserEnd.once('end', r));
    s.appEnd.end(frame(2, 300, 0x62));
    await ended;
    expect(Buffer.concat(received).equals(Buffer.concat([frame(2, 3, 0x61), frame(2, 300, 0x62)]))).toBe(true);
  });

  it('asked to go away while held back inside a frame: the frame is finished, then the 1001, then the end', async () => {
    const s = await sockets();
    const link = pipeFrames(s.upstream, s.client, Buffer.alloc(0));
    const big = frame(2, 32 * 1024 * 1024, 0x63);
    s.appEnd.write(big);
    s.appEnd.write(frame(2, 5, 0x64)); // after the boundary: must not reach the client
    await expect.poll(() => s.upstream.isPaused(), { timeout: 10_000 }).toBe(true);
    link.goAway('held back');
    const got = createHash('sha256');
    let received = 0;
    s.browserEnd.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    const ended = new Promise<void>((r) => s.browserEnd.once('end', r));
    s.browserEnd.resume();
    await ended;
    const tail = closeFrame(1001, 'held back');
    expect(received).toBe(big.length + tail.length);
    expect(got.digest('hex')).toBe(createHash('sha256').update(big).update(tail).digest('hex'));
  });
});
