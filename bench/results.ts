/**
 * The bench's result file: one JSON document with every figure of a run (the path is printed as
 * `BENCH_RESULTS=…`). Shape, per scenario and per system (or variant, e.g. "worker"/"cookie"):
 * the raw figures of each measured round and their summaries (median, min, max, spread: see
 * bench/stats.ts). A scenario that failed keeps `ok: false` and its error, and the run exits
 * non-zero: CI (.ci/run) fails on a broken benchmark, never on its figures.
 * `checkResults` is what the run and test/unit/bench-stats.test.ts check a document against.
 */
import { summarizeRounds, type Summary } from './stats.js';

export const RESULTS_VERSION = 1;

/** Every scenario a run measures, in the order it runs them. */
export const SCENARIOS = ['small', 'websocket', 'transfer', 'cold', 'idleWebsockets', 'tokens', 'mintRefresh', 'store', 'browser'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SystemResult {
  /** Raw figures of each measured round (warm-up passes are not recorded). */
  rounds: Record<string, number>[];
  summary: Record<string, Summary>;
}

export interface ScenarioResult {
  /** What the scenario measures, in one sentence. */
  description: string;
  ok: boolean;
  error?: string;
  /** Wall time the scenario took, warm-up included. */
  seconds: number;
  /** Parameters it ran with (connections, sizes, rounds). */
  params: Record<string, number | string | boolean>;
  systems: Record<string, SystemResult>;
}

export interface BenchResults {
  version: typeof RESULTS_VERSION;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; node: string; platform: string; loadavgStart: number[]; loadavgEnd: number[] };
  scenarios: Partial<Record<ScenarioName, ScenarioResult>>;
}

/** A system's result from its rounds: every numeric field summarised. */
export function systemResult(rounds: Record<string, number>[]): SystemResult {
  const fields = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  return { rounds, summary: summarizeRounds(rounds, fields) };
}

const isNum = (v: unknown) => v === null || typeof v === 'number'; // JSON turns NaN into null

/** Problems with a results document (empty when well-formed). */
export function checkResults(doc: unknown): string[] {
  const problems: string[] = [];
  const d = doc as BenchResults;
  if (!d || typeof d !== 'object') return ['not an object'];
  if (d.version !== RESULTS_VERSION) problems.push(`version is ${String(d.version)}, expected ${RESULTS_VERSION}`);
  if (typeof d.quick !== 'boolean') problems.push('quick is not a boolean');
  for (const k of ['startedAt', 'finishedAt'] as const) if (Number.isNaN(Date.parse(d[k]))) problems.push(`${k} is not a date`);
  if (!d.machine || typeof d.machine.cpus !== 'number') problems.push('machine.cpus missing');
  if (!d.scenarios || typeof d.scenarios !== 'object') return [...problems, 'scenarios missing'];
  for (const name of SCENARIOS) {
    const s = d.scenarios[name];
    if (!s) {
      problems.push(`scenario ${name} missing`);
      continue;
    }
    if (typeof s.description !== 'string' || !s.description) problems.push(`${name}: no description`);
    if (typeof s.ok !== 'boolean') problems.push(`${name}: ok is not a boolean`);
    if (s.ok === false) problems.push(`${name}: failed: ${s.error ?? 'no error given'}`);
    if (typeof s.seconds !== 'number') problems.push(`${name}: seconds missing`);
    const systems = Object.entries(s.systems ?? {});
    if (s.ok && systems.length === 0) problems.push(`${name}: no system measured`);
    for (const [sys, r] of systems) {
      if (!Array.isArray(r.rounds) || r.rounds.length === 0) problems.push(`${name}.${sys}: no rounds`);
      for (const [field, sum] of Object.entries(r.summary ?? {})) {
        if (!sum || !isNum(sum.median) || !isNum(sum.min) || !isNum(sum.max) || !isNum(sum.spread) || typeof sum.n !== 'number')
          problems.push(`${name}.${sys}.${field}: malformed summary`);
      }
      if (!r.summary || Object.keys(r.summary).length === 0) problems.push(`${name}.${sys}: no summary`);
    }
  }
  return problems;
}
