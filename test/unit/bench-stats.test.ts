/**
 * The bench's pure helpers (bench/stats.ts, bench/results.ts): medians and spreads of rounds and
 * the shape of the result file. No benchmark runs here (figures never go in timed tests).
 */
import { describe, expect, it } from 'vitest';
import { checkResults, RESULTS_VERSION, SCENARIOS, systemResult, type BenchResults } from '../../bench/results.js';
import { fmtSummary, markdownTable, median, percentile, ratio, summarize } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('median of odd and even counts, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 1, Number.POSITIVE_INFINITY, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('summary: median, range and spread relative to the median', () => {
    expect(summarize([90, 100, 110])).toEqual({ median: 100, min: 90, max: 110, spread: 0.2, n: 3 });
    expect(summarize([42])).toEqual({ median: 42, min: 42, max: 42, spread: 0, n: 1 });
    expect(summarize([]).n).toBe(0);
  });

  it('percentile by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('ratios are NaN, printed n/a, when a side is missing', () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(2, 0)).toBeNaN();
    expect(ratio(undefined, 4)).toBeNaN();
    expect(fmtSummary(summarize([]))).toBe('n/a');
    expect(fmtSummary(summarize([1000, 1100, 1200]), 0)).toBe('1100 (1000–1200)');
  });

  it('markdown tables have a separator row', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
  });
});

describe('bench result file', () => {
  const good = (): BenchResults => ({
    version: RESULTS_VERSION,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    quick: true,
    machine: { cpus: 2, node: 'v20', platform: 'linux x64', loadavgStart: [0, 0, 0], loadavgEnd: [0, 0, 0] },
    scenarios: Object.fromEntries(
      SCENARIOS.map((name) => [name, { description: name, ok: true, seconds: 1, params: {}, systems: { gateway: systemResult([{ rps: 1 }, { rps: 3 }]) } }]),
    ),
  });

  it('a complete document passes, through JSON (NaN becomes null)', () => {
    const doc = good();
    doc.scenarios.small!.systems.gateway = systemResult([{ rps: 1, cpuUsPerReq: Number.NaN }]);
    expect(checkResults(JSON.parse(JSON.stringify(doc)))).toEqual([]);
    expect(doc.scenarios.tokens!.systems.gateway!.summary.rps!.median).toBe(2);
  });

  it('a missing scenario, a failed one or an empty system is reported', () => {
    const doc = good();
    delete doc.scenarios.cold;
    doc.scenarios.browser = { ...doc.scenarios.browser!, ok: false, error: 'boom' };
    doc.scenarios.small!.systems.gateway = { rounds: [], summary: {} };
    const problems = checkResults(JSON.parse(JSON.stringify(doc)));
    expect(problems).toContain('scenario cold missing');
    expect(problems).toContain('browser: failed: boom');
    expect(problems).toContain('small.gateway: no rounds');
    expect(checkResults({ ...good(), version: 0 })).toContain(`version is 0, expected ${RESULTS_VERSION}`);
  });
});
