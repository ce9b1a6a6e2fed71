/**
 * Remembered label renderings (broker/core/metrics.ts) count each label set apart, in any key order,
 * escaped as before; fixed label sets (fixedLabels) count like equal plain ones; request ids
 * (broker/core/ops.ts freshRequestId) cut from one pooled encoding keep their shape and stay unique.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics, fixedLabels } from '../../broker/core/metrics.js';
import { freshRequestId } from '../../broker/core/ops.js';

describe('metric label sets', () => {
  it('the same set in another key order is one series; sets that differ stay apart, escaped', () => {
    const m = createMetrics();
    m.inc('pg_test_total', { host: 'preview', class: '2xx' });
    m.inc('pg_test_total', { class: '2xx', host: 'preview' });
    m.inc('pg_test_total', { host: 'a\u0001class\u00002xx' });
    m.inc('pg_test_total', { host: 'say "hi"\n' });
    const text = m.render();
    expect(text).toContain('pg_test_total{class="2xx",host="preview"} 2');
    expect(text).toContain('pg_test_total{host="a\u0001class\u00002xx"} 1');
    expect(text).toContain('pg_test_total{host="say \\"hi\\"\\n"} 1');
  });
});

describe('fixed label sets (the per-request ones)', () => {
  it('a fixed set counts as the same series as an equal plain set, and cannot be changed after', () => {
    const m = createMetrics();
    const fixed = fixedLabels({ host: 'preview', class: '2xx' });
    m.inc('pg_test_total', fixed);
    m.inc('pg_test_total', fixed);
    m.inc('pg_test_total', { class: '2xx', host: 'preview' }); // positive control: a plain equal set
    m.observe('pg_test_seconds', 0.01, fixedLabels({ host: 'preview' }));
    expect(m.render()).toContain('pg_test_total{class="2xx",host="preview"} 3');
    expect(m.render()).toContain('pg_test_seconds_count{host="preview"} 1');
    expect(Object.isFrozen(fixed)).toBe(true);
    expect(() => {
      (fixed as Record<string, string>).host = 'gateway';
    }).toThrow(TypeError);
  });
});

describe('request ids', () => {
  it('are 16 base64url characters, all different, across many draws of the pool', () => {
    const ids = Array.from({ length: 2000 }, () => freshRequestId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
