/**
 * The browser page load: Debian's Chromium (test/support/chromium.ts) loading a page with 100
 * module scripts (bench/app.mjs `/page`, everything `no-store`, so every load fetches all 101
 * resources) three ways, loads interleaved, each mode warmed up first:
 *  - direct: Daytona's preview URL with its token in a header (what the gateway saves people from);
 *  - cookie: through the gateway with Service Workers blocked (the partitioned-cookie path);
 *  - worker: through the gateway with its Service Worker attaching the token (the default path);
 *  - nginx and minimal: the same page through nginx and through the minimal Node proxy (each
 *    injecting Daytona's token, bench/systems.ts), the references of every other scenario. Under
 *    a page's bursts of six requests a proxy's latency follows its CPU per request on the two
 *    shared cores, so the minimal Node proxy is the floor of what a Node proxy's page load can be;
 *  - minimalWorker: the minimal proxy's page controlled by a pass-through Service Worker
 *    (bench/app.mjs `/passthrough-sw.js`: `respondWith(fetch(request))`), what sending every
 *    request through any worker costs Chromium: the reference for worker mode.
 * Figure: the navigation's duration (Navigation Timing: start to the end of the load event).
 * The gateway modes sign in the way a person does: a launch URL bound to a host origin, opened
 * with that origin as the referrer (broker/core/limits/launch-binding.ts).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../test/support/chromium.js';
import { systemResult } from '../results.js';
import { launch, userSession } from '../setup.js';
import { fmt, fmtSummary, markdownTable, ratio } from '../stats.js';
import { HOST_ORIGIN, SECRET } from '../systems.js';
import type { Scenario } from './context.js';

type Mode = 'direct' | 'nginx' | 'minimal' | 'minimalWorker' | 'cookie' | 'worker';

async function loadMs(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const scripts = performance.getEntriesByType('resource').length;
    if (scripts < 100) throw new Error(`only ${scripts} subresources loaded`);
    return nav ? nav.loadEventEnd - nav.startTime : Number.NaN;
  });
}

export const browser: Scenario = {
  name: 'browser',
  description:
    'Chromium loading a page with 100 subresources: direct to Daytona, through the gateway in cookie mode (Service Workers blocked), and in worker mode (median of several loads).',
  async run(ctx) {
    const loads = ctx.quick ? 2 : 15;
    const st = ctx.stack;
    const b = await launchChromium();
    try {
      const contexts: BrowserContext[] = [];
      const pages = {} as Record<Mode, { page: Page; url: string }>;
      // direct
      const direct = await b.newContext({ extraHTTPHeaders: { 'x-daytona-preview-token': st.daytonaToken, 'x-daytona-skip-preview-warning': 'true' } });
      contexts.push(direct);
      pages.direct = { page: await direct.newPage(), url: `http://3000-${st.sandboxId}.proxy.localhost:${st.emulatorPort}/page` };
      // through the gateway: sign in by opening a launch URL as the host page would.
      const session = await userSession(SECRET);
      const previewUrl = `http://3000-${st.sandboxId}.preview.localhost:${st.gatewayPort}/page`;
      for (const mode of ['cookie', 'worker'] as const) {
        const c = await b.newContext(mode === 'cookie' ? { serviceWorkers: 'block' } : {});
        contexts.push(c);
        const page = await c.newPage();
        const { url } = await launch({ gatePort: st.gatewayPort, sandboxId: st.sandboxId, session, hostOrigin: HOST_ORIGIN, path: '/page' });
        await page.goto(url, { referer: `${HOST_ORIGIN}/`, timeout: 120_000 });
        await page.waitForURL(previewUrl, { waitUntil: 'load', timeout: 120_000 });
        pages[mode] = { page, url: previewUrl };
      }
      // The references: no credential of ours, the proxy adds Daytona's token (bench/systems.ts).
      for (const m of ['nginx', 'minimal'] as const) {
        const sys = st.systems[m];
        if (!sys) continue;
        const c = await b.newContext();
        contexts.push(c);
        pages[m] = { page: await c.newPage(), url: `http://${m}.localhost:${sys.target.port}/page` };
      }
      const minimal = st.systems.minimal;
      if (minimal) {
        const c = await b.newContext();
        contexts.push(c);
        const page = await c.newPage();
        const url = `http://passthrough.localhost:${minimal.target.port}/page`;
        await page.goto(url, { timeout: 120_000 });
        await page.evaluate(`navigator.serviceWorker.register('/passthrough-sw.js').then(() => navigator.serviceWorker.ready)`);
        pages.minimalWorker = { page, url };
      }
      const modes = (['direct', 'nginx', 'minimal', 'minimalWorker', 'cookie', 'worker'] as const).filter((m) => pages[m] !== undefined);
      for (const m of modes) for (let i = 0; i < (ctx.quick ? 1 : 2); i++) await loadMs(pages[m].page, pages[m].url);
      // Each worker mode is the one it claims to be (after the warm-up loads, the page is controlled).
      for (const m of ['cookie', 'worker', 'minimalWorker'] as const) {
        if (!pages[m]) continue;
        const controlled = await pages[m].page.evaluate(() => Boolean(navigator.serviceWorker?.controller));
        if (controlled !== (m !== 'cookie')) throw new Error(`${m} mode: the page is ${controlled ? '' : 'not '}controlled by a Service Worker`);
      }
      const out: Record<Mode, Record<string, number>[]> = { direct: [], nginx: [], minimal: [], minimalWorker: [], cookie: [], worker: [] };
      for (let i = 0; i < loads; i++) for (const m of modes) out[m].push({ loadMs: await loadMs(pages[m].page, pages[m].url) });
      for (const c of contexts) await c.close();
      return {
        params: { loads, subresources: 100 },
        systems: Object.fromEntries(
          Object.entries(out)
            .filter(([, v]) => v.length > 0)
            .map(([k, v]) => [k, systemResult(v)]),
        ),
      };
    } finally {
      await b.close();
    }
  },
  report(r) {
    const m = (s: string) => r.systems[s]?.summary.loadMs?.median;
    // '' for no comparison (an empty column, or a mode the run lacks, e.g. no nginx installed).
    const vs = (a: string, b: string) => (m(a) === undefined || m(b) === undefined ? '' : `${fmt(ratio(m(a), m(b)), 2)} × ${b}`);
    const row = (label: string, mode: string, ...against: string[]) =>
      r.systems[mode] ? [[label, fmtSummary(r.systems[mode]?.summary.loadMs, 0), ...against.map((b) => vs(mode, b))]] : [];
    const rows = [
      ...row('direct to Daytona', 'direct', '', '', ''),
      ...row('nginx injecting the token', 'nginx', 'direct', '', ''),
      ...row('minimal Node proxy (bench/minimal-proxy.mjs)', 'minimal', 'direct', '', ''),
      ...row('minimal Node proxy + a pass-through Service Worker', 'minimalWorker', 'direct', 'minimal', ''),
      ...row('gateway, cookie mode', 'cookie', 'direct', 'minimal', ''),
      ...row('gateway, worker mode', 'worker', 'direct', 'minimalWorker', 'cookie'),
    ];
    return `### Browser page load (Chromium, a page with ${r.params.subresources} module scripts, no-store; median of ${r.params.loads} loads, range in brackets)\n\n${markdownTable(
      ['mode', 'load ms', 'vs direct', 'vs its Node reference', 'vs cookie'],
      rows,
    )}`;
  },
};
