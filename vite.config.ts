import { defineConfig } from 'vite';

// Browser bundles (Service Worker, bootstrap script, embed script) are built here; see sw/.
// The vitest configuration lives here too.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: browser tests and socket tests are heavy; keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
