/**
 * The hand-over registry (broker/node/handover.ts) must not keep answers alive past their
 * request. V8 11.3 keeps the value of a WeakMap entry whose key is young alive through every
 * scavenge until the next full GC; with one entry per answer, each proxied request's whole
 * exchange was promoted to the old generation (~15 KB a request), which made every scavenge copy
 * megabytes and brought full GCs (docs/benchmarks.md, "Round 6"). Measured here with forced
 * scavenges: old-space growth after 2000 answers are made and dropped. The control registers the
 * same answers in a WeakMap and must show the promotion, so the measurement can see the defect.
 */
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bodyStream, nodeRequestBody, registerResponse, takeNodeBody, takeRequestBody } from '../../broker/node/handover.js';
import { nodeResponse } from '../../broker/node/lazy-response.js';
import { HeaderList } from '../../broker/core/http/header-list.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;
const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
const tick = () => new Promise((r) => setTimeout(r, 5));

/** KB added to the old generation by what `make` allocates and drops, after two scavenges. */
async function promotedKb(make: () => void): Promise<number> {
  gc();
  await tick();
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  const before = oldSpaceUsed();
  make();
  await tick(); // past the current job: nothing the loop made is held by the microtask queue
  gc({ type: 'minor' }); // survivors are copied...
  gc({ type: 'minor' }); // ...then promoted
  return (oldSpaceUsed() - before) / 1024;
}

/** An upstream message with ~1 KB of its own, as much as the answer would keep. */
function message(): IncomingMessage {
  const m = new PassThrough() as unknown as IncomingMessage & { payload: number[] };
  m.payload = new Array(100).fill(1);
  return m;
}

const init = () => ({ status: 200, statusText: 'OK', headers: new HeaderList() as unknown as Headers });

describe('the hand-over registry and the garbage collector', () => {
  it('an answer made and dropped is not promoted to the old generation', async () => {
    // Positive control: the same answers registered in a WeakMap are promoted (~2-4 MB here).
    const registry = new WeakMap<object, () => unknown>();
    const control = await promotedKb(() => {
      for (let i = 0; i < 2000; i++) {
        const res = nodeResponse(message(), () => {}, init());
        registry.set(res, () => res.status);
      }
    });
    expect(control).toBeGreaterThan(500);
    // The usual answer (lazy-response.ts): registered for hand-over, then dropped. (Answers whose
    // body became a Web stream are promoted whatever the registry does: Node 20's ReadableStream
    // itself outlives scavenges, measured the same way; the lazy answer is the path that has none.)
    const lazy = await promotedKb(() => {
      for (let i = 0; i < 2000; i++) nodeResponse(message(), () => {}, init());
    });
    expect(lazy).toBeLessThan(control / 5);
  });

  it('an answer still hands its body over, once', () => {
    const src = message();
    const res = nodeResponse(src, () => {}, init());
    const taken = takeNodeBody(res);
    expect(taken?.res).toBe(src);
    expect(takeNodeBody(res)).toBeNull();

    const body = bodyStream(message(), () => {});
    const native = new Response(body);
    registerResponse(native, body);
    expect(takeNodeBody(native)).not.toBeNull();
    expect(takeNodeBody(native)).toBeNull();
    expect(takeNodeBody(body)).toBeNull(); // the stream and its Response share one hand-over

    const incoming = message();
    const upload = nodeRequestBody(incoming);
    expect(takeRequestBody(upload)).toBe(incoming);
    expect(takeRequestBody(upload)).toBeNull();
  });
});
