/** Remembered label renderings (broker/core/metrics.ts) count each label set apart, in any key order, escaped as before. */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../broker/core/metrics.js';

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
