/**
 * `npm run build:package` (and `prepack`): everything the published package runs from, so
 * that `npm install preview-gate` (production dependencies only) needs no build step:
 *   dist/sw.js, dist/bootstrap.js, dist/embed.js   browser bundles (vite.config.ts)
 *   dist/lib/*.js     ES modules bundled by esbuild, dependencies left as imports:
 *                     index.js (core), node.js, client.js, embed.js, cli.js (+ shared chunks;
 *                     the CLI's gateway and emulator commands load broker/node/main.ts and
 *                     demo/emulator/main.ts, compiled here too)
 *   dist/types/**     declarations by tsc (tsconfig.package.json) + sw/embed/package/jsx/*.d.ts
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { createBuilder, loadConfigFromFile } from 'vite';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

// The browser bundles of vite.config.ts, built into a staging folder and then renamed into
// dist/ one file at a time: `npm run build` empties dist/ first, which a gateway started
// meanwhile (another test, a running `npm run gateway`) would see as "assets not built".
const STAGE = 'dist/.stage-browser';
rmSync(STAGE, { recursive: true, force: true });
const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' }, 'vite.config.ts', undefined, 'warn');
if (!loaded) throw new Error('vite.config.ts not found');
const { config } = loaded;
for (const env of Object.values(config.environments ?? {})) env.build = { ...env.build, outDir: STAGE, emptyOutDir: false };
const builder = await createBuilder({ ...config, configFile: false, logLevel: 'warn' });
await builder.buildApp();
mkdirSync('dist', { recursive: true });
for (const f of readdirSync(STAGE)) renameSync(`${STAGE}/${f}`, `dist/${f}`);
rmSync(STAGE, { recursive: true, force: true });

rmSync('dist/lib', { recursive: true, force: true });
rmSync('dist/types', { recursive: true, force: true });
await build({
  entryPoints: {
    index: 'broker/core/index.ts',
    node: 'broker/node/index.ts',
    client: 'broker/client/index.ts',
    embed: 'sw/embed/package/embed.ts',
    cli: 'broker/cli/main.ts',
  },
  outdir: 'dist/lib',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Type-only subpaths (JSX augmentations) still need a module to import at run time.
writeFileSync('dist/lib/types-only.js', 'export {};\n');

run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.package.json']);
mkdirSync('dist/types/sw/embed/package/jsx', { recursive: true });
for (const f of readdirSync('sw/embed/package/jsx')) copyFileSync(`sw/embed/package/jsx/${f}`, `dist/types/sw/embed/package/jsx/${f}`);
