/** What every scenario gets, and what it gives back (bench/main.ts runs them in turn). */
import type { ScenarioResult } from '../results.js';
import type { Stack, System } from '../systems.js';

export interface Ctx {
  stack: Stack;
  /** `--quick`: every scenario briefly (CI keeps the benchmark working; figures are not meant to be read). */
  quick: boolean;
  log(msg: string): void;
}

export interface Scenario {
  name: import('../results.js').ScenarioName;
  description: string;
  run(ctx: Ctx): Promise<Pick<ScenarioResult, 'params' | 'systems'>>;
  /** Markdown for the report (tables ready to paste into docs/benchmarks.md). */
  report(r: ScenarioResult): string;
}

/** The systems that are running, in the order they are measured. */
export function present(ctx: Ctx, names: System['name'][]): System[] {
  return names.map((n) => ctx.stack.systems[n]).filter((s): s is System => s !== undefined);
}

/**
 * Every system's warm-up first (not recorded), then `rounds` interleaved rounds (A B C A B C) so
 * drift on the shared machine falls on every system alike. Returns each system's rounds.
 */
export async function interleaved(
  systems: System[],
  rounds: number,
  warmup: (s: System) => Promise<unknown>,
  measure: (s: System, round: number) => Promise<Record<string, number>>,
): Promise<Record<string, Record<string, number>[]>> {
  for (const s of systems) await warmup(s);
  const out: Record<string, Record<string, number>[]> = Object.fromEntries(systems.map((s) => [s.name, []]));
  for (let r = 0; r < rounds; r++) for (const s of systems) out[s.name]!.push(await measure(s, r));
  return out;
}
