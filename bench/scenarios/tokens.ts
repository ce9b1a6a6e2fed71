/**
 * Tokens, two scenarios:
 *  - tokens: in this process, the gateway's own code (broker/core/tokens/tokens.ts): µs to verify
 *    an access token when its verification is cached (the hot path: one Map lookup) and when it
 *    is not (a fresh ES256 signature check, what the first request with a new token pays), and
 *    µs to sign one (what every mint and refresh pays);
 *  - mintRefresh: over HTTP against the running gateway (its memory store, rate limits off):
 *    new preview sessions per second (`POST /api/previews` + `POST /__gate/session`: a launch
 *    code, then the session with its first access token) and refreshes per second
 *    (`POST /__gate/refresh` rotating 8 chains at once), with the gateway's CPU per operation.
 */
import { createKeyRing } from '../../broker/core/tokens/keys.js';
import { createTokens, type Tokens } from '../../broker/core/tokens/tokens.js';
import { systemResult } from '../results.js';
import { runLoad } from '../run-load.js';
import { launchGrant, userSession } from '../setup.js';
import { fmtSummary, markdownTable } from '../stats.js';
import { SECRET } from '../systems.js';
import type { Scenario } from './context.js';

const claims = { aud: 'http://3000-bench.preview.localhost', sub: 'bench-user', sid: 'bench-session', sbx: 'bench', port: 3000, knd: 'session' as const };

/** Mean µs per call of `op` over `n` sequential calls. */
async function usPer(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return ((performance.now() - t0) * 1000) / n;
}

export const tokens: Scenario = {
  name: 'tokens',
  description:
    'Access-token verification µs, cached (the hot path) and uncached (a fresh ES256 check), and µs to sign one; the gateway’s own code, in-process.',
  async run(ctx) {
    const rounds = ctx.quick ? 1 : 3;
    const nSlow = ctx.quick ? 200 : 1000;
    const nFast = ctx.quick ? 20_000 : 100_000;
    const ring = await createKeyRing(Date.now);
    const cached = createTokens(ring, 'bench', Date.now);
    const uncached: Tokens = createTokens(ring, 'bench', Date.now, { accessVerifyCache: { ttlMs: 0 } });
    const signed = await Promise.all(Array.from({ length: 64 }, () => cached.signAccess(claims, 600_000)));
    const token = signed[0]!.token;
    await cached.verifyAccess(token);
    // Warm-up of every path before the first measured round.
    await usPer(500, () => uncached.verifyAccess(token));
    await usPer(5000, () => cached.verifyAccess(token));
    await usPer(200, () => cached.signAccess(claims, 600_000));
    const rows: Record<string, number>[] = [];
    for (let r = 0; r < rounds; r++) {
      rows.push({
        verifyCachedUs: await usPer(nFast, () => cached.verifyAccess(token)),
        verifyUncachedUs: await usPer(nSlow, (i) => uncached.verifyAccess(signed[i % signed.length]!.token)),
        signUs: await usPer(nSlow, () => cached.signAccess(claims, 600_000)),
      });
    }
    ctx.log(`tokens: ${JSON.stringify(rows.at(-1))}`);
    return { params: { rounds, uncachedCalls: nSlow, cachedCalls: nFast, alg: 'ES256' }, systems: { gateway: systemResult(rows) } };
  },
  report(r) {
    const s = r.systems.gateway!.summary;
    return `### Access tokens, in-process (ES256; median of ${r.params.rounds} rounds)\n\n${markdownTable(
      ['verify, cached', 'verify, uncached', 'sign (mint or refresh)'],
      [[`${fmtSummary(s.verifyCachedUs, 2)} µs`, `${fmtSummary(s.verifyUncachedUs, 0)} µs`, `${fmtSummary(s.signUs, 0)} µs`]],
    )}`;
  },
};

export const mintRefresh: Scenario = {
  name: 'mintRefresh',
  description: 'New preview sessions (launch + code exchange) and refreshes (rotations) per second over HTTP, with the gateway’s CPU per operation.',
  async run(ctx) {
    const rounds = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 1 : 3;
    const concurrency = 8;
    const st = ctx.stack;
    const session = await userSession(SECRET);
    const chains = await Promise.all(
      Array.from({ length: concurrency }, () => launchGrant({ gatePort: st.gatewayPort, sandboxId: st.sandboxId, secret: SECRET, session })),
    );
    let refreshTokens = chains.map((c) => c.refreshToken);
    const mintJob = (secs: number) => ({ kind: 'mint', gatePort: st.gatewayPort, sandboxId: st.sandboxId, session, concurrency, seconds: secs });
    const refreshJob = (secs: number) => ({ kind: 'refresh', gatePort: st.gatewayPort, previewHost: chains[0]!.previewHost, refreshTokens, seconds: secs });
    const measure = async (job: object) => {
      const cpu0 = st.cpuMs('gateway');
      const r = await runLoad(job);
      return { perSec: r.perSec!, errors: r.errors!, cpuUsPerOp: ((st.cpuMs('gateway') - cpu0) * 1000) / Math.max(1, r.count!) };
    };
    // Warm-up (a refresh chain rotates: the load hands back nothing, so warm up on spare chains).
    await runLoad(mintJob(ctx.quick ? 0.3 : 1));
    const spare = await Promise.all(
      Array.from({ length: concurrency }, () => launchGrant({ gatePort: st.gatewayPort, sandboxId: st.sandboxId, secret: SECRET, session })),
    );
    await runLoad({ ...refreshJob(ctx.quick ? 0.3 : 1), refreshTokens: spare.map((c) => c.refreshToken) });
    const mint: Record<string, number>[] = [];
    const refresh: Record<string, number>[] = [];
    for (let r = 0; r < rounds; r++) {
      mint.push(await measure(mintJob(seconds)));
      // Each round starts new chains: the previous round's last tokens are with the load process.
      refreshTokens = (
        await Promise.all(
          Array.from({ length: concurrency }, () => launchGrant({ gatePort: st.gatewayPort, sandboxId: st.sandboxId, secret: SECRET, session })),
        )
      ).map((c) => c.refreshToken);
      refresh.push(await measure(refreshJob(seconds)));
    }
    return { params: { rounds, seconds, concurrency }, systems: { mint: systemResult(mint), refresh: systemResult(refresh) } };
  },
  report(r) {
    const row = (name: string, label: string) => {
      const x = r.systems[name]!;
      return [label, fmtSummary(x.summary.perSec, 0), fmtSummary(x.summary.cpuUsPerOp, 0), String(x.rounds.reduce((a, b) => a + (b.errors ?? 0), 0))];
    };
    return `### Mint and refresh over HTTP (${r.params.concurrency} at a time, memory store; median of ${r.params.rounds} × ${r.params.seconds} s rounds)\n\n${markdownTable(
      ['operation', 'per second', 'gateway CPU µs/op', 'errors'],
      [row('mint', 'new session (launch + code exchange)'), row('refresh', 'refresh (rotation)')],
    )}`;
  },
};
