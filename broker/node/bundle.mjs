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
 * `npm run gateway` sets one V8 flag, `--max-semi-space-size=8` (docs/benchmarks.md, hot path
 * "Round 7": since the gateway's per-request objects die young (Round 6), 4 MB semi-spaces promote
 * the objects of requests in flight and cost ~20% more CPU per request and more peak memory than
 * 8 MB, which peaks at ~95 MB with the default's CPU; what follows is Round 4's measurement of 4 MB,
 * when every request's objects were promoted anyway):
 * under the small-request load the peak is V8's heap (heapTotal up to 80-120 MB with the default
 * 16 MB semi-spaces; live heap after a GC ~21 MB, Buffers ~4 MB), and 4 MB semi-spaces (the old
 * generation's garbage shrinks with the young generation: heapUsed max 56-93 → 33-57 MB) cut the peak RSS
 * from 123-185 MB to 100-139 MB at the same CPU per request within the noise (same-run medians: 1.00,
 * 1.04, 0.94, 1.00 of the default's), and did not change the CPU per downloaded MB: a gateway process
 * downloads either at ~1 ms/MB (the minimal proxy's) or, after small requests, at 2-3 ms/MB (50-60
 * full GCs per GiB, each marking the ~21 MB live heap), with either flag.
 * 1-2 MB cut it to ~96 MB in most runs but cost 10-28% more CPU per request in some. Not set:
 * `--max-old-space-size=1024`, which with the semi-space flag cut the peak too but about doubled the
 * gateway's CPU per downloaded MB (1.3-1.9 → 2.2-4.1 ms/MB over 5 runs: external memory counts
 * toward the smaller old-generation limit, so downloads trigger more full GCs) and lowered the
 * download ratio to nginx (0.70-0.89 → 0.51-0.70); `--optimize-for-size` (peak ~120 MB) cost
 * ~35% more CPU per small request. Started without `npm run gateway` (the package's CLI, the
 * Docker image, `node dist/gateway.mjs`), pass the flag through the environment:
 * `NODE_OPTIONS=--max-semi-space-size=8`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// `node broker/node/bundle.mjs [outfile]`: the tests' bundles (test/fleet/support/bundle.ts) are
// made by this same file, so they are the deployed bundle, byte for byte in their options.
// Paths are the working directory's (npm runs scripts in the package's root), not this file's:
// a checkout whose broker/ is a link elsewhere still builds into its own dist/.
const out = process.argv[2] ?? 'dist/gateway.mjs';

await build({
  entryPoints: ['broker/node/main.ts'],
  outfile: out,
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
const text = readFileSync(out, 'utf8');
const oneByte = text.replace(/[\u0100-\uffff]/g, '?');
if (oneByte !== text) writeFileSync(out, oneByte);
