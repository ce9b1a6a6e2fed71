/**
 * Preload (`node --import ./scripts/alloc-sampling.mjs …`): V8's sampling heap profiler with the
 * objects already collected kept in the samples, so the profile shows what a process *allocates*
 * (what feeds the garbage collector), not only what it retains, which is all `--heap-prof` shows.
 * With `ALLOC_SURVIVORS=1`, objects that died young are left out: the profile shows what outlives
 * a scavenge (copied, then promoted to the old generation), the allocations that make GC expensive.
 * Writes .tmp/profiles/alloc-<pid>.heapprofile on SIGTERM. Used by scripts/hotpath-cpu.ts
 * (HOTPATH_PROFILE=alloc); read it with `node --import tsx bench/profile.ts allocations <file>`.
 */
import { Session } from 'node:inspector';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', '.tmp', 'profiles');
let sync = false;
const s = new Session();
s.connect();
s.post(
  'HeapProfiler.startSampling',
  {
    samplingInterval: Number(process.env.ALLOC_SAMPLING_BYTES ?? 32768),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env.ALLOC_SURVIVORS !== '1',
  },
  (err) => {
    if (err) console.error('sampling', err);
  },
);
process.prependListener('SIGTERM', () => {
  s.post('HeapProfiler.stopSampling', (err, r) => {
    sync = true;
    if (err) console.error('alloc-sampling', err);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(r.profile));
    process.exit(0);
  });
  if (!sync) console.error('alloc-sampling: stopSampling answered later');
});
