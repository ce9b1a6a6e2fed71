/**
 * Old-generation headroom while Buffers stream through the gateway (docs/benchmarks.md, "Round 6:
 * transfers and V8's full GCs").
 *
 * Every socket read of a large body is a fresh 64 KB ArrayBuffer, garbage once written, freed by
 * the next scavenge. V8 11.3 (Node 20) counts the external memory allocated since the last full GC
 * against the old generation's limit (heap.h `OldGenerationSpaceAvailable()`: old-generation size
 * + `AllocatedExternalMemorySinceMarkCompact()`), and starts incremental marking once what is left
 * is below the young generation's capacity (heap.cc `IncrementalMarkingLimitReached()`). After a
 * full GC at a low old-generation allocation rate (one a transfer starts when the limit is already
 * within its reach, or any other while little is promoted) the limit is the live heap + 8 MB + the
 * young generation (heap-controller.cc:
 * growing factor ~1.1, minimum step 8 MB), so the 32–48 MB of Buffers between two scavenges use it
 * up: a full mark-compact of the whole live heap every ~16 MB transferred (60 per GiB), and each
 * one recomputes the same low limit. V8 has no flag to keep external memory out of that sum (later
 * versions: `--external-memory-accounted-in-global-limit`), and `--initial-old-space-size` (a
 * minimum limit) is read once when the heap is made and raises the limit under small requests too.
 *
 * So while ArrayBuffers are streaming (V8's external memory ≥ TRIGGER_MB at a GC), this sets
 * `--heap-growing-percent` so that the next full GC's limit is the live heap + `headroomMb`; V8
 * reads that flag at every full GC, so it takes effect at runtime (test/package/v8-heap.test.ts
 * proves it in the process the CLI starts). Two seconds after the last GC that saw streaming
 * Buffers it is set back to 0, V8's own dynamic factor: small requests keep V8's limits (and the
 * peak resident memory they give). A process started with its own `--heap-growing-percent` is left alone.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

const MB = 1024 * 1024;
/** External (ArrayBuffer) memory at a GC that means a body is streaming: idle and under small requests it stays ~4 MB. */
export const TRIGGER_MB = 16;
/** How long after the last such GC the headroom stays. */
export const HOLD_MS = 2_000;
/** Default headroom: V8 itself reacts to external memory only 64 MB above its level at the last full GC (`external_memory_limit`). */
export const DEFAULT_HEADROOM_MB = 64;

/**
 * The --heap-growing-percent whose limit (1 + p/100) × live is live + headroom: a larger heap gets
 * a smaller factor, not a proportionally larger limit (10–1000%; V8 adds its 8 MB minimum step).
 */
export function growingPercentFor(liveBytes: number, headroomBytes: number): number {
  return Math.min(1000, Math.max(10, Math.ceil((100 * headroomBytes) / Math.max(liveBytes, MB))));
}

export interface HeapHeadroom {
  /** The --heap-growing-percent set now (0: V8's dynamic factor). */
  readonly percent: number;
  /** How many times the headroom was switched on. */
  readonly raised: number;
  stop(): void;
}

/**
 * Starts watching V8's GCs (a `gc` PerformanceObserver: no timer, nothing while idle). Returns
 * null when disabled (headroomMb 0) or when the process was started with --heap-growing-percent.
 */
export function startHeapHeadroom(headroomMb = DEFAULT_HEADROOM_MB, execArgv: readonly string[] = process.execArgv): HeapHeadroom | null {
  if (!(headroomMb > 0) || execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return null;
  let percent = 0;
  let raised = 0;
  let lastStreaming = 0;
  const set = (p: number) => {
    setFlagsFromString(`--heap-growing-percent=${p}`);
    percent = p;
  };
  // The live heap: the heap used as seen just after a full GC (its entry arrives on a later turn of
  // the event loop, so an upper bound); the current use would count the young generation's garbage.
  let live = 0;
  const observer = new PerformanceObserver((list) => {
    let gc = false;
    let major = false;
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major = gc = true;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc = true;
    }
    if (!gc) return;
    const stats = getHeapStatistics();
    if (major || live === 0) live = stats.used_heap_size;
    const now = performance.now();
    if (stats.external_memory >= TRIGGER_MB * MB) {
      lastStreaming = now;
      if (percent === 0) {
        set(growingPercentFor(Math.min(live, stats.used_heap_size), headroomMb * MB));
        raised++;
      }
    } else if (percent !== 0 && now - lastStreaming > HOLD_MS) set(0);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    get percent() {
      return percent;
    },
    get raised() {
      return raised;
    },
    stop() {
      observer.disconnect();
      if (percent !== 0) set(0);
    },
  };
}
