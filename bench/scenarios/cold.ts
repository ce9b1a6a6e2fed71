/**
 * The cold path: 100 requests at once, each on a new connection, to a sandbox whose Daytona
 * link the gateway has never fetched (a new sandbox per round: launched, so the user may see
 * it, but never requested through). Measures their latency and counts, at the emulator, the
 * Daytona API calls they caused: the link cache's single flight should make it one fetch for all
 * 100 (broker/core/upstream/link-cache.ts). The launch's own API calls are not counted (the
 * counter is read after it).
 */
import { systemResult } from '../results.js';
import { runLoad } from '../run-load.js';
import { launchGrant } from '../setup.js';
import { fmtSummary, markdownTable } from '../stats.js';
import { SECRET } from '../systems.js';
import type { Scenario } from './context.js';

export const cold: Scenario = {
  name: 'cold',
  description:
    '100 concurrent first requests (new connections) to a sandbox whose Daytona link is not cached: latency, and the Daytona API calls they caused (counted at the emulator).',
  async run(ctx) {
    const concurrency = 100;
    const rounds = ctx.quick ? 1 : 3;
    const gw = ctx.stack.systems.gateway!;
    // Warm-up: the same 100 concurrent new connections on the bench's sandbox (JIT, accept path, its
    // link fetched); then once more, measured, as the cached reference.
    await runLoad({ kind: 'cold', target: gw.target, path: '/api/echo', concurrency });
    const w0 = await ctx.stack.emulatorStats();
    const warm = await runLoad({ kind: 'cold', target: gw.target, path: '/api/echo', concurrency });
    const warmCalls = (await ctx.stack.emulatorStats()).apiRequests! - w0.apiRequests!;
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < rounds; i++) {
      const sandbox = await ctx.stack.newSandbox();
      const grant = await launchGrant({ gatePort: ctx.stack.gatewayPort, sandboxId: sandbox.id, secret: SECRET });
      const before = await ctx.stack.emulatorStats();
      const r = await runLoad({
        kind: 'cold',
        target: { port: ctx.stack.gatewayPort, host: grant.previewHost, headers: { 'x-daytona-preview-token': grant.accessToken } },
        path: '/api/echo',
        concurrency,
      });
      const after = await ctx.stack.emulatorStats();
      rows.push({
        p50: r.p50!,
        max: r.max!,
        errors: r.errors!,
        daytonaApiCalls: after.apiRequests! - before.apiRequests!,
        previewLinkCalls: after.previewUrlRequests! + after.signedPreviewUrlRequests! - before.previewUrlRequests! - before.signedPreviewUrlRequests!,
      });
    }
    return {
      params: { concurrency, rounds },
      systems: {
        gateway: systemResult(rows),
        gatewayWarm: systemResult([{ p50: warm.p50!, max: warm.max!, errors: warm.errors!, daytonaApiCalls: warmCalls }]),
      },
    };
  },
  report(r) {
    const g = r.systems.gateway!;
    const w = r.systems.gatewayWarm;
    const calls = g.rounds.map((x) => x.daytonaApiCalls).join(', ');
    return `### Cold path (${r.params.concurrency} concurrent first requests, new connections; ${r.params.rounds} rounds, a new sandbox each)\n\n${markdownTable(
      ['', 'p50 ms', 'slowest ms', 'Daytona API calls per round', 'of which preview-link calls', 'errors'],
      [
        [
          'link not cached',
          fmtSummary(g.summary.p50, 1),
          fmtSummary(g.summary.max, 1),
          calls,
          g.rounds.map((x) => x.previewLinkCalls).join(', '),
          String(g.rounds.reduce((a, b) => a + (b.errors ?? 0), 0)),
        ],
        ...(w
          ? [
              [
                'link cached (same load, warm sandbox)',
                fmtSummary(w.summary.p50, 1),
                fmtSummary(w.summary.max, 1),
                String(w.rounds[0]?.daytonaApiCalls),
                '',
                String(w.rounds[0]?.errors ?? 0),
              ],
            ]
          : []),
      ],
    )}`;
  },
};
