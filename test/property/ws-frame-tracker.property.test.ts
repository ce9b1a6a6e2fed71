/**
 * broker/node/ws-going-away.ts FrameTracker: the frame boundaries it finds in a WebSocket byte
 * stream are those of a straightforward parser of the whole stream (RFC 6455 §5.2), whatever the
 * chunking: random frames (7-, 16- and 64-bit lengths, lengths encoded longer than needed,
 * masked and unmasked, fragments and control frames, empty payloads, payload bytes that look
 * like headers) split at random points, down to one byte per chunk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameTracker } from '../../broker/node/ws-going-away.js';

interface FrameSpec {
  fin: boolean;
  opcode: number;
  masked: boolean;
  length: number;
  /** 0: the shortest length encoding; 1: 16-bit even when 7 would do; 2: 64-bit. */
  widen: 0 | 1 | 2;
  seed: number;
}

function encode(f: FrameSpec): Buffer {
  const width = f.length > 0xffff ? 2 : f.length >= 126 ? Math.max(1, f.widen) : f.widen;
  const head = Buffer.alloc(2 + (width === 1 ? 2 : width === 2 ? 8 : 0) + (f.masked ? 4 : 0));
  head[0] = (f.fin ? 0x80 : 0) | f.opcode;
  head[1] = (f.masked ? 0x80 : 0) | (width === 1 ? 126 : width === 2 ? 127 : f.length);
  if (width === 1) head.writeUInt16BE(f.length, 2);
  if (width === 2) head.writeBigUInt64BE(BigInt(f.length), 2);
  if (f.masked) head.writeUInt32BE(f.seed >>> 0, head.length - 4);
  // Payload bytes that would read as headers (0x81 0xff ...) if the tracker ever looked at them.
  const payload = Buffer.alloc(f.length);
  for (let i = 0; i < f.length; i++) payload[i] = (f.seed + i * 0x7f) & 0xff;
  return Buffer.concat([head, payload]);
}

/** The reference: reads the whole stream frame after frame; every offset where a frame ends (0 included). */
function referenceBoundaries(stream: Buffer): number[] {
  const out = [0];
  let at = 0;
  while (at < stream.length) {
    const len7 = stream[at + 1]! & 0x7f;
    let length = len7;
    let header = 2;
    if (len7 === 126) {
      length = stream.readUInt16BE(at + 2);
      header = 4;
    } else if (len7 === 127) {
      length = Number(stream.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (stream[at + 1]! & 0x80) header += 4;
    at += header + length;
    out.push(at);
  }
  expect(at).toBe(stream.length);
  return out;
}

const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  fin: fc.boolean(),
  opcode: fc.constantFrom(0, 1, 2, 8, 9, 10),
  masked: fc.boolean(),
  length: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 125 }) },
    { weight: 3, arbitrary: fc.integer({ min: 126, max: 3000 }) },
    { weight: 1, arbitrary: fc.constantFrom(65_535, 65_536, 70_001) },
  ),
  widen: fc.constantFrom(0, 0, 0, 1, 2),
  seed: fc.integer({ min: 0, max: 0xffff_ffff }),
});

/** A stream of frames and the points it is cut at (sorted, distinct, inside the stream). */
const chunkedStream = fc.array(frameSpec, { minLength: 1, maxLength: 12 }).chain((frames) => {
  const stream = Buffer.concat(frames.map(encode));
  const cuts = fc.oneof(
    fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, stream.length - 1) }), { maxLength: 40 }),
    // Byte by byte through the start (every header split everywhere), whole after that.
    fc.constant(Array.from({ length: Math.min(stream.length - 1, 200) }, (_, i) => i + 1)),
  );
  return fc.tuple(fc.constant(stream), cuts);
});

function chunksOf(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => stream.subarray(points[i]!, end));
}

describe('FrameTracker (ws-going-away.ts)', () => {
  it('is at a boundary after a chunk exactly when the reference parser has a frame end there', () => {
    fc.assert(
      fc.property(chunkedStream, ([stream, cuts]) => {
        const boundaries = new Set(referenceBoundaries(stream));
        const tracker = new FrameTracker();
        expect(tracker.atBoundary).toBe(true);
        let offset = 0;
        for (const chunk of chunksOf(stream, cuts)) {
          expect(tracker.feed(chunk, false)).toBe(chunk.length);
          offset += chunk.length;
          expect(tracker.atBoundary).toBe(boundaries.has(offset));
        }
        expect(tracker.atBoundary).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('asked to stop after any chunk, it stops at the first frame end from there, as the reference parser finds it', () => {
    fc.assert(
      fc.property(chunkedStream, fc.nat(), ([stream, cuts], pick) => {
        const boundaries = referenceBoundaries(stream);
        const chunks = chunksOf(stream, cuts);
        const askedAfter = pick % chunks.length; // chunks fed before the going-away
        const tracker = new FrameTracker();
        let offset = 0;
        for (const chunk of chunks.slice(0, askedAfter)) offset += tracker.feed(chunk, false);
        const expected = boundaries.find((b) => b >= offset)!;
        // From here on only up to the next boundary goes through (pipeFrames's closing mode).
        for (const chunk of chunks.slice(askedAfter)) {
          if (tracker.atBoundary) break;
          const n = tracker.feed(chunk, true);
          expect(n).toBeGreaterThan(0);
          expect(n).toBeLessThanOrEqual(chunk.length);
          offset += n;
          if (n < chunk.length) expect(tracker.atBoundary).toBe(true);
        }
        expect(tracker.atBoundary).toBe(true);
        expect(offset).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('at a boundary, a stopping feed consumes nothing; a non-stopping one consumes the whole chunk', () => {
    const frames = Buffer.concat([encode({ fin: true, opcode: 1, masked: false, length: 3, widen: 0, seed: 1 }), Buffer.from([0x81, 0x00])]);
    const tracker = new FrameTracker();
    expect(tracker.feed(frames, true)).toBe(0);
    expect(tracker.feed(frames, false)).toBe(frames.length);
    expect(tracker.atBoundary).toBe(true);
  });

  it('follows a 64-bit length above 2^32 (skipped chunk by chunk, never buffered)', () => {
    const length = 2 ** 32 + 5;
    const head = Buffer.alloc(10);
    head[0] = 0x82;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(length), 2);
    const tracker = new FrameTracker();
    expect(tracker.feed(head, false)).toBe(10);
    const block = Buffer.alloc(64 * 1024, 0x81);
    for (let sent = 0; sent < 2 ** 32; sent += block.length) expect(tracker.feed(block, false)).toBe(block.length);
    expect(tracker.atBoundary).toBe(false);
    // 4 of the last 5 bytes, then the last one with the next frame's header: it stops between them.
    expect(tracker.feed(block.subarray(0, 4), true)).toBe(4);
    expect(tracker.atBoundary).toBe(false);
    expect(tracker.feed(Buffer.from([0x61, 0x81, 0x00]), true)).toBe(1);
    expect(tracker.atBoundary).toBe(true);
  });
});
