/**
 * `npm run build:gateway`: bundles the Node entry (broker/node/main.ts and everything it
 * imports, dependencies included) into one ES module, dist/gateway.mjs, which `npm run gateway`
 * runs with plain `node`. Measured against running the TypeScript through tsx: idle RSS about
 * 120 MB → 70 MB (no tsx loader thread, no transpiler, no module-graph walk of node_modules at
 * start) and ready in ~0.2 s instead of ~0.8 s. Same code, same behaviour.
 *
 * Memory under load (`npm run bench`, its per-phase table): the peak above the idle ~70 MB is
 * V8 garbage, not buffered bodies and not a leak (heap still referenced after a full GC stays
 * ~16-18 MB through two rounds of every load; a 100 MB transfer with a stalled peer holds < 5 MB,
 * test/gateway/upstream/slow-peer-memory.test.ts). Small requests grow the heap to 60-130 MB
 * (V8's default young generation of 2 x 16 MB and an old-generation limit up to 4x the live
 * heap); streaming leaves 30-45 MB of read buffers (ArrayBuffers) awaiting collection.
 * `npm run gateway` sets no V8 flag on purpose: `--max-semi-space-size=4 --max-old-space-size=1024`
 * cut the run's peak RSS from ~180-210 MB to ~130 MB at the same CPU per small request, but
 * about doubled the gateway's CPU per downloaded MB (1.3-1.9 → 2.2-4.1 ms/MB over 5 runs:
 * external memory counts toward the smaller old-generation limit, so downloads trigger more
 * full GCs) and lowered the download ratio to nginx (0.70-0.89 → 0.51-0.70);
 * `--optimize-for-size` (peak ~120 MB) cost ~35% more CPU per small request.
 * Where memory matters more than download throughput, pass them through the environment:
 * `NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=1024" npm run gateway`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['broker/node/main.ts'],
  outfile: 'dist/gateway.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (the Daytona SDK, axios) call require() for Node built-ins.
  banner: { js: "import { createRequire as __pgCreateRequire } from 'node:module'; const require = __pgCreateRequire(import.meta.url);" },
  // Every non-ASCII character of the code itself escaped (esbuild's default, stated): what is
  // left above U+007F is in dependencies' comments (see below).
  charset: 'ascii',
});

// V8 keeps a module's source text for as long as the process runs, and one character above
// U+00FF anywhere in it makes the whole text a two-byte string: the 4.7 MB bundle was held as
// 9.4 MB (heap sampling of the running gateway: `decode` in the ESM loader's translator). With
// charset 'ascii' such characters can only be in comments (arrows and ellipses in bundled
// dependencies' comments); each UTF-16 unit of them becomes '?', so columns and the source
// map stay right, and the text is one-byte: 4.7 MB less resident memory for the process's life.
const out = 'dist/gateway.mjs';
const text = readFileSync(out, 'utf8');
const oneByte = text.replace(/[\u0100-\uffff]/g, '?');
if (oneByte !== text) writeFileSync(out, oneByte);
