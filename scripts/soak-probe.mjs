/**
 * Loaded into the soak's gateway process (`node --import ./scripts/soak-probe.mjs ...`, see
 * scripts/soak.ts): answers the soak's IPC questions about the process's memory, so resident
 * memory (what the OS sees) can be told apart from the V8 heap the gateway really uses.
 *  - `{ op: 'memory', gc }` → `process.memoryUsage()` + `v8.getHeapStatistics()`; with `gc: true`
 *    (and `--expose-gc`), after a full collection, so `heapUsed` is what is still referenced;
 *  - `{ op: 'snapshot', path }` → writes a heap snapshot (for scripts/soak-heap-diff.mjs).
 * Nothing here runs without the IPC channel (a gateway started any other way ignores it).
 */
import v8 from 'node:v8';

if (typeof process.send === 'function') {
  process.on('message', (msg) => {
    if (!msg || typeof msg !== 'object' || typeof msg.id !== 'number') return;
    try {
      if (msg.op === 'memory') {
        if (msg.gc && typeof globalThis.gc === 'function') globalThis.gc();
        const m = process.memoryUsage();
        const h = v8.getHeapStatistics();
        process.send({
          id: msg.id,
          ok: true,
          memory: {
            rss: m.rss,
            heapUsed: m.heapUsed,
            heapTotal: m.heapTotal,
            external: m.external,
            arrayBuffers: m.arrayBuffers,
            heapLimit: h.heap_size_limit,
            mallocedMemory: h.malloced_memory,
          },
        });
      } else if (msg.op === 'snapshot') {
        if (typeof globalThis.gc === 'function') globalThis.gc();
        const path = v8.writeHeapSnapshot(msg.path);
        process.send({ id: msg.id, ok: true, path });
      }
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: String(err) });
    }
  });
  // The IPC channel must not keep the gateway alive on its own (SIGTERM drains and exits).
  process.channel?.unref();
}
