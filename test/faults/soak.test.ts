/**
 * The short soak (`npm run soak` is the long one): ~20 s of mixed traffic against a gateway
 * process, then a flood of made-up sandbox ids. Zero errors, every flood answer a coded error,
 * descriptors and memory bounded.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak.js';

describe('short soak', () => {
  it('mixed traffic for 20 s has no error; made-up sandbox ids each get a clear coded error; memory and descriptors stay bounded', async () => {
    const r = await runSoak({ seconds: 20, flood: 3000, concurrency: 6 });
    expect(r.errorSamples).toEqual([]);
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(50);
    expect(r.websockets).toBeGreaterThan(0);
    for (const kind of ['launch', 'exchange', 'page', 'subresource', 'api', 'renew', 'cookie-renewal', 'revoke', 'revoked-use'])
      expect(r.byKind[kind] ?? 0).toBeGreaterThan(0);
    // Descriptors: the last sample is not above the peak of the first half plus a little slack.
    const half = r.samples.slice(0, Math.max(1, Math.floor(r.samples.length / 2)));
    const last = r.samples.at(-1)!;
    expect(last.fds).toBeLessThanOrEqual(Math.max(...half.map((s) => s.fds)) + 20);
    // The heap is sampled after a full collection beside RSS (the probe answered every sample).
    expect(r.samples.every((s) => s.heapUsedMiB > 0 && s.heapTotalMiB >= s.heapUsedMiB)).toBe(true);
    expect(r.flood!.ids).toBeGreaterThan(100);
    expect(r.flood!.unclear, `answers: ${JSON.stringify(r.flood!.byAnswer)}`).toBe(0);
    expect(r.flood!.rssAfterMiB - r.flood!.rssBeforeMiB).toBeLessThan(64);
  }, 180_000);
});
