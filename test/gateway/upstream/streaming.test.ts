/**
 * Large bodies stream through forward() with flat memory, and a client that goes away stops
 * the upstream request. The emulator, its inspector app and the gateway share this process, so
 * the memory figures include all three.
 */
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternChunk, patternSha256 } from '../../../demo/emulator/index.js';
import { clientRequest, principal, startApp, startRig, type Rig } from './support.js';

const SIZE = 100 * 1024 * 1024;
const MiB = 1024 * 1024;

let rig: Rig;
let sandboxId: string;
beforeAll(async () => {
  rig = await startRig();
  sandboxId = (await rig.emulator.createSandbox({})).id;
});
afterAll(async () => rig?.close());

// Forced collections separate what is *retained* from garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Runs `work`, which calls `tick()` per chunk; every 64 chunks it forces a GC and samples the
 * retained ArrayBuffer (Buffer) memory and RSS above the starting point. Returns the peaks.
 */
async function peakGrowth<T>(work: (tick: () => void) => Promise<T>): Promise<{ result: T; rssMiB: number; buffersMiB: number; seconds: number }> {
  gc();
  const base = process.memoryUsage();
  let peakRss = 0;
  let peakBuffers = 0;
  let chunks = 0;
  const tick = () => {
    if (++chunks % 64 !== 0) return;
    gc();
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss - base.rss);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers - base.arrayBuffers);
  };
  const started = performance.now();
  const result = await work(tick);
  return { result, rssMiB: peakRss / MiB, buffersMiB: peakBuffers / MiB, seconds: (performance.now() - started) / 1000 };
}

/** A lazily generated request body (the inspector's byte pattern), never held in memory. */
function patternStream(total: number, tick: () => void = () => {}): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= total) return controller.close();
        const n = Math.min(64 * 1024, total - offset);
        controller.enqueue(new Uint8Array(patternChunk(offset, n)));
        offset += n;
        tick();
      },
    },
    { highWaterMark: 0 },
  );
}

describe('streaming through forward()', () => {
  it('downloads 100 MB with flat memory', async () => {
    const { result, rssMiB, buffersMiB, seconds } = await peakGrowth(async (tick) => {
      const res = await rig.upstream.forward(clientRequest(sandboxId, `/download?bytes=${SIZE}`), { sandboxId, port: 3000 }, principal);
      expect(res.status).toBe(200);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        tick();
      }
      return { bytes, sha256: hash.digest('hex') };
    });
    console.log(
      `download 100 MB: ${(100 / seconds).toFixed(0)} MB/s, retained RSS +${rssMiB.toFixed(1)} MiB, retained ArrayBuffers +${buffersMiB.toFixed(1)} MiB`,
    );
    expect(result).toEqual({ bytes: SIZE, sha256: patternSha256(SIZE) });
    // Retained memory does not grow with the size: bounded by stream queues and socket buffers
    // (the emulator in this process alone retains ~25 MiB for its own relay of the download).
    expect(buffersMiB).toBeLessThan(40);
    expect(rssMiB).toBeLessThan(60);
  });

  it('uploads 100 MB with flat memory (streamed, not buffered for replay)', async () => {
    const { result, rssMiB, buffersMiB, seconds } = await peakGrowth(async (tick) => {
      const res = await rig.upstream.forward(
        clientRequest(sandboxId, '/upload', {
          method: 'POST',
          body: patternStream(SIZE, tick),
          headers: { 'content-length': String(SIZE), 'content-type': 'application/octet-stream' },
        }),
        { sandboxId, port: 3000 },
        principal,
      );
      expect(res.status).toBe(200);
      return (await res.json()) as { bytes: number; sha256: string };
    });
    console.log(
      `upload 100 MB: ${(100 / seconds).toFixed(0)} MB/s, retained RSS +${rssMiB.toFixed(1)} MiB, retained ArrayBuffers +${buffersMiB.toFixed(1)} MiB`,
    );
    expect(result).toEqual({ bytes: SIZE, sha256: patternSha256(SIZE) });
    expect(buffersMiB).toBeLessThan(40);
    expect(rssMiB).toBeLessThan(60);
  });

  it('a client abort before the answer destroys the upstream request', async () => {
    let closedAt = 0;
    let arrived = false;
    const app = await startApp((req, res) => {
      arrived = true;
      const timer = setTimeout(() => res.end('late'), 10_000);
      res.on('close', () => {
        clearTimeout(timer);
        closedAt = Date.now();
      });
      req.resume();
    });
    try {
      await rig.emulator.bindPort(sandboxId, 4200, { target: app.url });
      const abort = new AbortController();
      const pending = rig.upstream.forward(clientRequest(sandboxId, '/slow', { signal: abort.signal }, 4200), { sandboxId, port: 4200 }, principal);
      // Abort once the request reached the app (a loaded machine may take a while to get there).
      for (let i = 0; i < 250 && !arrived; i++) await new Promise((r) => setTimeout(r, 20));
      expect(arrived).toBe(true);
      const abortedAt = Date.now();
      abort.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      for (let i = 0; i < 250 && closedAt === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closedAt).toBeGreaterThan(0);
      // Well before the app's own 10 s answer (generous: the machine may be loaded).
      expect(closedAt - abortedAt).toBeLessThan(5_000);
    } finally {
      await app.close();
    }
  });

  it('a client abort mid-body stops the upstream stream', async () => {
    let sent = 0;
    let closed = false;
    const app = await startApp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!closed && res.write(chunk)) sent += chunk.length;
        if (!closed) res.once('drain', pump);
      };
      res.on('close', () => (closed = true));
      pump();
    });
    try {
      await rig.emulator.bindPort(sandboxId, 4201, { target: app.url });
      const abort = new AbortController();
      const res = await rig.upstream.forward(clientRequest(sandboxId, '/', { signal: abort.signal }, 4201), { sandboxId, port: 4201 }, principal);
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.cancel().catch(() => {});
      for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(true);
      const at = sent;
      await new Promise((r) => setTimeout(r, 100));
      expect(sent).toBe(at); // nothing more is produced once the client is gone
      // Backpressure: with nobody reading, the app could only fill socket buffers, not 100s of MB.
      expect(sent).toBeLessThan(32 * MiB);
    } finally {
      await app.close();
    }
  });
});
