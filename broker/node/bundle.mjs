/**
 * `npm run build:gateway`: bundles the Node entry (broker/node/main.ts and everything it
 * imports, dependencies included) into one ES module, dist/gateway.mjs, which `npm run gateway`
 * runs with plain `node`. Measured against running the TypeScript through tsx: idle RSS about
 * 120 MB → 70 MB (no tsx loader thread, no transpiler, no module-graph walk of node_modules at
 * start) and ready in ~0.2 s instead of ~0.8 s. Same code, same behaviour.
 */
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
});
