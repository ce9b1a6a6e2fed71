/**
 * A REAL Streamlit server (PyPI, in the Python 3.11 venv of scripts/ensure-frameworks.mjs; its
 * defaults: CORS and XSRF protection on) through the gateway on the realistic preview domain
 * (test/support/realistic-domain.ts), with ZERO Streamlit configuration: its WebSocket
 * `/_stcore/stream` would refuse the preview origin (403), the gateway presents it with the
 * app's own Origin (broker/core/upstream/dev-origin.ts). One server shared by the cells:
 *  (a) the host page's cross-site iframe, third-party cookies blocked (partitioned cookie);
 *  (b) top level with the Service Worker;
 *  direct: the server on its own address, for the timings.
 * Each cell: the app renders (its script ran: the title and the counter), `/_stcore/stream`
 * connects, a button click round-trips through the socket (the script reruns, the count
 * changes), and no request on the preview origin fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRealisticChromium, startRealisticStack, type RealisticStack } from '../support/realistic-domain.js';
import { freePort, installed, startDevServer, Timings, watchFailures, watchSockets, type DevServer } from './support.js';

const STREAMLIT = installed('streamlit');
const PORT = 8501;
const SUITE = STREAMLIT.ok ? `Streamlit ${STREAMLIT.version} on a realistic domain, zero config` : `Streamlit (skipped: ${STREAMLIT.reason})`;

const APP = `import streamlit as st
st.title("Hello from Streamlit")
if "n" not in st.session_state:
    st.session_state.n = 0
if st.button("Increment"):
    st.session_state.n += 1
st.markdown(f"count={st.session_state.n}")
`;

describe.skipIf(!STREAMLIT.ok)(SUITE, { timeout: 180_000 }, () => {
  let stack: RealisticStack;
  let browser: Browser;
  let server: DevServer;
  let appDir: string;
  let origin: string;
  const timings = new Timings('streamlit');
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'pg-streamlit-'));
    writeFileSync(join(appDir, 'app.py'), APP);
    const port = await freePort();
    const keep = (event: string, fields?: Record<string, unknown>) => void logs.push({ event, ...fields });
    [stack, server] = await Promise.all([
      startRealisticStack({ logger: { info: keep, warn: keep, error: keep } }),
      startDevServer({
        command: STREAMLIT.python!,
        args: [
          '-m',
          'streamlit',
          'run',
          'app.py',
          '--server.port',
          String(port),
          '--server.address',
          '127.0.0.1',
          '--server.headless',
          'true',
          '--browser.gatherUsageStats',
          'false',
        ],
        cwd: appDir,
        port,
        readyPath: '/_stcore/health',
        env: { HOME: appDir },
      }),
    ]);
    browser = await launchRealisticChromium(stack.spki);
    await stack.bind(PORT, server.url);
    origin = stack.previewOrigin(PORT);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stack?.close();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    timings.print();
  });

  /** The app renders, its socket connects, two clicks round-trip through it. */
  async function exercise(target: Frame | Page, cell: string, sockets: ReturnType<typeof watchSockets>, opened: number): Promise<void> {
    await target.getByText('count=0').waitFor({ timeout: 60_000 });
    timings.add(cell, 'open → rendered', Date.now() - opened);
    expect(await target.getByRole('heading', { name: 'Hello from Streamlit' }).count()).toBeGreaterThanOrEqual(1);
    for (const n of [1, 2]) {
      const clicked = Date.now();
      await target.getByRole('button', { name: 'Increment' }).click();
      await target.getByText(`count=${n}`).waitFor({ timeout: 30_000 });
      timings.add(cell, 'click → rerun shown', Date.now() - clicked);
    }
    const stream = sockets.filter((s) => /\/_stcore\/stream$/.test(s.url));
    expect(stream.length).toBeGreaterThanOrEqual(1);
    expect(stream.some((s) => !s.closed && s.frames > 0)).toBe(true);
    for (const s of stream) expect(s.error).toBeUndefined();
  }

  it('(a) cross-site iframe, third-party cookies blocked: renders, /_stcore/stream connects, a click round-trips', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page, origin);
      const sockets = watchSockets(page, /_stcore\/stream/);
      const opened = Date.now();
      await page.goto(`${stack.host.url}?port=${PORT}`);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 60_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('cookie');
      const frame = page.frames().find((f) => f.url().startsWith(origin))!;
      await exercise(frame, 'iframe/cookie', sockets, opened);
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('(b) top level with the Service Worker: renders, /_stcore/stream connects, a click round-trips', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page, origin);
      const sockets = watchSockets(page, /_stcore\/stream/);
      const opened = Date.now();
      await page.goto(await stack.launchUrl(PORT), { referer: stack.host.url });
      await page.waitForURL(`${origin}/`, { timeout: 60_000 });
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker?.controller))).toBe(true);
      await exercise(page, 'top/worker', sockets, opened);
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('every /_stcore/stream upgrade was logged with the upstream answer 101; Streamlit refused none', () => {
    const upgrades = logs.filter((l) => l.event === 'upgrade' && String(l.path).endsWith('/_stcore/stream'));
    expect(upgrades.length).toBeGreaterThanOrEqual(2);
    for (const l of upgrades) expect(l).toMatchObject({ status: 101, upstreamStatus: 101 });
    expect(logs.filter((l) => l.event === 'dev_server_refused')).toEqual([]);
    expect(server.output()).not.toMatch(/Rejecting WebSocket connection/i);
  });

  it('direct (no gateway): the same app and clicks on the server itself, for comparison', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const sockets = watchSockets(page, /_stcore\/stream/);
      const opened = Date.now();
      await page.goto(`${server.url}/`);
      await exercise(page, 'direct', sockets, opened);
    } finally {
      await context.close();
    }
  });
});
