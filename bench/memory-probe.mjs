/**
 * Loaded into the gateway by the benchmarks only (`node --import ./bench/memory-probe.mjs ...`,
 * plain JS so it needs no loader): samples `process.memoryUsage()` every 20 ms and keeps the
 * maximum of each field since the last reset, and counts V8's garbage collections (a `gc`
 * PerformanceObserver: full mark-compacts and scavenges, their time). `SIGUSR2` writes
 * {now, max, gc} as one JSON line to the file named by PG_MEMORY_PROBE_FILE and starts a new
 * window (the bench sends it at the end of each phase). `PG_MEMORY_PROBE_GC=1` (needs --expose-gc)
 * runs a full GC before the "now" sample, so "now" then says what is still referenced (a leak)
 * rather than garbage not yet collected; that GC is not counted.
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.PG_MEMORY_PROBE_FILE;
if (file) {
  const fields = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
  const zero = () => Object.fromEntries(fields.map((f) => [f, 0]));
  const noGc = () => ({ major: 0, majorMs: 0, minor: 0, minorMs: 0 });
  let max = zero();
  let gc = noGc();
  let forced = 0; // full GCs the probe itself runs (PG_MEMORY_PROBE_GC), not counted
  const sample = () => {
    const m = process.memoryUsage();
    for (const f of fields) if (m[f] > max[f]) max[f] = m[f];
    return m;
  };
  setInterval(sample, 20).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        if (forced > 0) {
          forced--;
          continue;
        }
        gc.major++;
        gc.majorMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.minor++;
        gc.minorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    sample();
    const counted = gc;
    gc = noGc();
    if (process.env.PG_MEMORY_PROBE_GC === '1' && typeof globalThis.gc === 'function') {
      forced++; // its entry arrives after this handler
      globalThis.gc();
    }
    const now = process.memoryUsage();
    writeFileSync(file, `${JSON.stringify({ now, max, gc: counted })}\n`);
    max = zero();
  });
}
