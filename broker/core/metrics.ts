/**
 * A tiny Prometheus registry implementing the Metrics contract. Names are created on first
 * use: `inc` makes a counter, `observe` a histogram (latency buckets in seconds). Names
 * declared as gauges (`declareGauge`) accept negative increments (e.g. open WebSockets).
 * Text exposition format 0.0.4: https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import type { Metrics } from './contracts.js';

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  buckets: number[];
  counts: number[];
  sum: number;
  count: number;
}

export interface MetricsRegistry extends Metrics {
  /** Marks `name` as a gauge (may go down) with a help text. */
  declareGauge(name: string, help?: string): void;
  /** Help text for a metric (shown as `# HELP`). */
  describe(name: string, help: string): void;
  /** Current value of a counter/gauge series (tests, /metrics). */
  value(name: string, labels?: Record<string, string>): number;
  /** Prometheus text exposition. */
  render(): string;
}

/**
 * Rendered label sets by their raw names and values: every request counts under a handful of
 * them, and rendering (sort, escapes) each time was ~1.5% of a proxied request. Bounded: a
 * label set beyond the first 1000 is rendered every time.
 */
const renderedLabels = new Map<string, string>();

/** Label sets made once and passed on every request (`fixedLabels`), known by identity. */
const labelObjects = new WeakMap<Readonly<Record<string, string>>, string>();

/**
 * A label set to pass again and again (the per-request ones, gateway.ts): frozen and rendered
 * once, so counting under it needs no JSON per request.
 */
export function fixedLabels(labels: Record<string, string>): Readonly<Record<string, string>> {
  const frozen = Object.freeze({ ...labels });
  labelObjects.set(frozen, renderedKey(frozen));
  return frozen;
}

function labelKey(labels: Readonly<Record<string, string>> | undefined): string {
  if (!labels) return '';
  return labelObjects.get(labels) ?? renderedKey(labels);
}

function renderedKey(labels: Readonly<Record<string, string>>): string {
  const raw = JSON.stringify(labels); // unambiguous (escaped), whatever the values hold
  let key = renderedLabels.get(raw);
  if (key === undefined) {
    key = renderLabels(labels);
    if (renderedLabels.size < 1000) renderedLabels.set(raw, key);
  }
  return key;
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const safeNames = new Map<string, string>();
/** A metric name made safe for the exposition format (remembered: a few names, used per request). */
const safeName = (n: string): string => {
  let safe = safeNames.get(n);
  if (safe === undefined) {
    safe = n.replace(/[^a-zA-Z0-9_:]/g, '_');
    if (safeNames.size < 1000) safeNames.set(n, safe);
  }
  return safe;
};

/**
 * @example
 * const m = createMetrics();
 * m.inc(METRIC.requests, { class: '2xx' });
 * m.render(); // '# TYPE pg_http_requests_total counter\npg_http_requests_total{class="2xx"} 1\n'
 */
export function createMetrics(): MetricsRegistry {
  const counters = new Map<string, Map<string, number>>();
  const hists = new Map<string, Map<string, Histogram>>();
  const gauges = new Set<string>();
  const help = new Map<string, string>();
  return {
    declareGauge(name, h) {
      gauges.add(safeName(name));
      if (h) help.set(safeName(name), h);
    },
    describe(name, h) {
      help.set(safeName(name), h);
    },
    inc(name, labels, value = 1) {
      const n = safeName(name);
      if (value < 0 && !gauges.has(n)) return; // counters never go down
      let series = counters.get(n);
      if (!series) counters.set(n, (series = new Map()));
      const k = labelKey(labels);
      series.set(k, (series.get(k) ?? 0) + value);
    },
    observe(name, value, labels) {
      const n = safeName(name);
      let series = hists.get(n);
      if (!series) hists.set(n, (series = new Map()));
      const k = labelKey(labels);
      let h = series.get(k);
      if (!h) series.set(k, (h = { buckets: DEFAULT_BUCKETS, counts: DEFAULT_BUCKETS.map(() => 0), sum: 0, count: 0 }));
      for (let i = 0; i < h.buckets.length; i++) if (value <= h.buckets[i]!) h.counts[i]!++;
      h.sum += value;
      h.count++;
    },
    value(name, labels) {
      return counters.get(safeName(name))?.get(labelKey(labels)) ?? 0;
    },
    render() {
      const out: string[] = [];
      for (const [n, series] of counters) {
        if (help.has(n)) out.push(`# HELP ${n} ${help.get(n)}`);
        out.push(`# TYPE ${n} ${gauges.has(n) ? 'gauge' : 'counter'}`);
        for (const [k, v] of series) out.push(`${n}${k} ${v}`);
      }
      for (const [n, series] of hists) {
        if (help.has(n)) out.push(`# HELP ${n} ${help.get(n)}`);
        out.push(`# TYPE ${n} histogram`);
        for (const [k, h] of series) {
          const inner = k ? k.slice(1, -1) + ',' : '';
          h.buckets.forEach((b, i) => out.push(`${n}_bucket{${inner}le="${b}"} ${h.counts[i]}`));
          out.push(`${n}_bucket{${inner}le="+Inf"} ${h.count}`);
          out.push(`${n}_sum${k} ${h.sum}`);
          out.push(`${n}_count${k} ${h.count}`);
        }
      }
      return out.join('\n') + '\n';
    },
  };
}

/**
 * Every metric name the gateway emits, core and upstream side alike: one prefix (`pg_`), one
 * list (documented in docs/interface.md, `GET /metrics`). Use these, never a literal.
 */
export const METRIC = {
  requests: 'pg_http_requests_total',
  duration: 'pg_http_request_duration_seconds',
  refreshes: 'pg_refresh_total',
  wsOpen: 'pg_websocket_connections_open',
  wsTotal: 'pg_websocket_connections_total',
  wsRefused: 'pg_websocket_refused_total',
  tokensIssued: 'pg_tokens_issued_total',
  upstreamResponse: 'pg_upstream_response_seconds',
  upstreamTokenRejected: 'pg_upstream_token_rejected_total',
  upstreamRetries: 'pg_upstream_retries_total',
  linkCache: 'pg_upstream_link_cache_total',
} as const;
