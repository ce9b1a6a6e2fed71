/**
 * Pure helpers of the bench (no I/O, tested by test/unit/bench-stats.test.ts): the median and
 * spread of a set of rounds, ratios, and how figures are printed. The machine is shared and
 * noisy, so every figure the bench reports is a median over interleaved rounds with its spread
 * (min–max) beside it: a reader sees at once whether two systems differ by more than the noise.
 */

export interface Summary {
  /** Median of the rounds (the mean of the two middle values for an even count). */
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, as a fraction (0.1 = the rounds span 10% of the median); 0 for one round. */
  spread: number;
  n: number;
}

export function median(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Median and spread of the finite values (NaN fields when there are none). */
export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, spread: Number.NaN, n: 0 };
  const m = median(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { median: m, min, max, spread: m !== 0 ? (max - min) / Math.abs(m) : 0, n: xs.length };
}

/** Per field, the summary of that field over the rounds (fields missing from a round are skipped). */
export function summarizeRounds<K extends string>(rounds: readonly Partial<Record<K, number>>[], fields: readonly K[]): Record<K, Summary> {
  const out = {} as Record<K, Summary>;
  for (const f of fields) out[f] = summarize(rounds.map((r) => r[f] ?? Number.NaN));
  return out;
}

/** a / b, or NaN when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN;
}

/** A number for a table: `digits` decimals below 100, none above; "n/a" when not finite. */
export function fmt(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

/** "1234 (1180–1290)": the median and, for several rounds, the range. */
export function fmtSummary(s: Summary | undefined, digits = 1): string {
  if (!s || s.n === 0) return 'n/a';
  return s.n > 1 ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : fmt(s.median, digits);
}

/** A percentile of values sorted ascending (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A markdown table from a header row and data rows. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
