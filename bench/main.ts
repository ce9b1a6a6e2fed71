/**
 * `npm run bench` (`-- --quick`: every scenario briefly, what CI runs): preview-gate against
 * direct Daytona access, nginx and a minimal Node proxy, same upstream, same load generator in a
 * process of its own, one run (bench/systems.ts). Every system is warmed up before it is
 * measured and rounds are interleaved (A B C A B C), so drift on a shared machine hits all alike;
 * tables give medians and the range. Scenarios: bench/scenarios/*.ts; what each measures is in
 * docs/benchmarks.md. Every figure goes to one JSON file whose path is printed as
 * `BENCH_RESULTS=…` (bench/results.ts). Exit status: non-zero when a scenario failed (a broken
 * benchmark); figures are never judged here.
 * Env: BENCH_ONLY=small,cold (a subset of the scenarios), BENCH_RESULTS_DIR (default .tmp/bench),
 * BENCH_GATEWAY / BENCH_GATEWAY_FLAGS (bench/systems.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { checkResults, RESULTS_VERSION, SCENARIOS, type BenchResults, type ScenarioResult } from './results.js';
import type { Scenario } from './scenarios/context.js';
import { browser } from './scenarios/browser.js';
import { cold } from './scenarios/cold.js';
import { small, transfer, websocket } from './scenarios/http.js';
import { idleWebsockets } from './scenarios/idle-ws.js';
import { store } from './scenarios/store.js';
import { mintRefresh, tokens } from './scenarios/tokens.js';
import { removeLoadScript } from './run-load.js';
import { startStack } from './systems.js';

const ALL: Scenario[] = [small, websocket, transfer, cold, idleWebsockets, tokens, mintRefresh, store, browser];

async function main() {
  const quick = process.argv.includes('--quick');
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const t0 = Date.now();
  const log = (msg: string) => console.error(`bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s: ${msg}`);
  const results: BenchResults = {
    version: RESULTS_VERSION,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    quick,
    machine: { cpus: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}`, loadavgStart: loadavg(), loadavgEnd: [] },
    scenarios: {},
  };
  log(`starting the systems${quick ? ' (--quick)' : ''}`);
  const stack = await startStack();
  // Ctrl-C or a CI timeout: stop what the bench started (servers, nginx) before exiting.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stack.stop().finally(() => process.exit(130));
    });
  const reports: string[] = [];
  try {
    for (const scenario of ALL) {
      if (only && !only.includes(scenario.name)) continue;
      log(`${scenario.name}: ${scenario.description}`);
      const s0 = Date.now();
      let r: ScenarioResult;
      try {
        const { params, systems } = await scenario.run({ stack, quick, log });
        r = { description: scenario.description, ok: true, seconds: (Date.now() - s0) / 1000, params, systems };
        reports.push(scenario.report(r));
      } catch (e) {
        r = {
          description: scenario.description,
          ok: false,
          error: String((e as Error)?.stack ?? e),
          seconds: (Date.now() - s0) / 1000,
          params: {},
          systems: {},
        };
        log(`${scenario.name} FAILED: ${r.error}`);
      }
      results.scenarios[scenario.name] = r;
    }
  } finally {
    await stack.stop();
    removeLoadScript();
  }
  results.finishedAt = new Date().toISOString();
  results.machine.loadavgEnd = loadavg();
  const dir = resolve(process.env.BENCH_RESULTS_DIR ?? join('.tmp', 'bench'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `results-${results.startedAt.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

  console.log(
    `\n## Run of ${results.startedAt.slice(0, 10)}${quick ? ' (--quick: figures not meant to be read)' : ''}\n\n` +
      `${results.machine.cpus} cores, Node ${results.machine.node}, load average ${results.machine.loadavgStart.map((x) => x.toFixed(1)).join(' ')} at the start, ` +
      `${results.machine.loadavgEnd.map((x) => x.toFixed(1)).join(' ')} at the end; ${((Date.now() - t0) / 1000).toFixed(0)} s in all.\n`,
  );
  console.log(reports.join('\n\n'));
  const expected = only ? SCENARIOS.filter((s) => only.includes(s)) : SCENARIOS;
  const problems = checkResults(results).filter((p) => !/^scenario (\S+) missing$/.test(p) || expected.includes(p.split(' ')[1] as never));
  console.log(`\nBENCH_RESULTS=${file}`);
  if (problems.length) {
    console.error(`bench: the benchmark is broken:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
