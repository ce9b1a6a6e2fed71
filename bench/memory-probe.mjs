/**
 * Loaded into the gateway by the benchmarks only (`node --import ./bench/memory-probe.mjs ...`,
 * plain JS so it needs no loader): samples `process.memoryUsage()` every 20 ms and keeps the
 * maximum of each field since the last reset. `SIGUSR2` writes {now, max} as one JSON line to
 * the file named by PG_MEMORY_PROBE_FILE and starts a new window (the bench sends it at the end
 * of each phase). `PG_MEMORY_PROBE_GC=1` (needs --expose-gc) runs a full GC before the "now"
 * sample, so "now" then says what is still referenced (a leak) rather than garbage not yet collected.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.PG_MEMORY_PROBE_FILE;
if (file) {
  const fields = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
  const zero = () => Object.fromEntries(fields.map((f) => [f, 0]));
  let max = zero();
  const sample = () => {
    const m = process.memoryUsage();
    for (const f of fields) if (m[f] > max[f]) max[f] = m[f];
    return m;
  };
  setInterval(sample, 20).unref();
  process.on('SIGUSR2', () => {
    sample();
    if (process.env.PG_MEMORY_PROBE_GC === '1' && typeof globalThis.gc === 'function') globalThis.gc();
    const now = process.memoryUsage();
    writeFileSync(file, `${JSON.stringify({ now, max })}\n`);
    max = zero();
  });
}
