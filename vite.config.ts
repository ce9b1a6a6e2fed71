/// <reference types="vitest/config" />
import { resolve } from 'node:path';
import { defineConfig, type EnvironmentOptions } from 'vite';

/**
 * Browser bundles, one self-contained classic script each (IIFE, no imports at runtime), built
 * by one `vite build` through Vite's builder (one environment per bundle, built in turn):
 *   dist/sw.js         the Service Worker        (served at /__gate/sw.js on preview origins)
 *   dist/bootstrap.js  the launch page's script  (served at /__gate/bootstrap.js)
 *   dist/embed.js      the host-page embed       (served at /embed.js on the gateway origin)
 *   dist/ws.js         the WebSocket wrapper     (served at /__gate/ws.js; added by the worker on the cookie-less path)
 */
const BUNDLES = {
  sw: 'sw/worker/sw.ts',
  bootstrap: 'sw/page/bootstrap.ts',
  embed: 'sw/embed/embed.ts',
  ws: 'sw/page/ws-shim-entry.ts',
} as const;

function bundle(name: keyof typeof BUNDLES, first: boolean): EnvironmentOptions {
  return {
    consumer: 'client',
    build: {
      outDir: 'dist',
      emptyOutDir: first,
      copyPublicDir: false,
      target: 'es2022',
      minify: true,
      sourcemap: false,
      rollupOptions: {
        input: resolve(import.meta.dirname, BUNDLES[name]),
        output: {
          format: 'iife',
          entryFileNames: `${name}.js`,
        },
      },
    },
  };
}

export default defineConfig({
  // workbox's dev-only assertions are stripped by this define.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  environments: {
    sw: bundle('sw', true),
    bootstrap: bundle('bootstrap', false),
    embed: bundle('embed', false),
    ws: bundle('ws', false),
  },
  builder: {
    async buildApp(builder) {
      for (const name of Object.keys(BUNDLES)) {
        const environment = builder.environments[name];
        if (environment) await builder.build(environment);
      }
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: browser tests and socket tests are heavy; keep parallelism modest.
    maxWorkers: 2,
    // vitest's summary, then one plain `tests: N passed, N failed, N skipped` line for CI.
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
