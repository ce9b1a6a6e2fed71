/**
 * A REAL JupyterLab (PyPI, in the Python 3.11 venv of scripts/ensure-frameworks.mjs) through the
 * gateway on the realistic preview domain (test/support/realistic-domain.ts). Jupyter's own
 * token is off (the gateway authenticates) and nothing else is configured: Jupyter Server would
 * refuse the preview origin on its API ("Blocking Cross Origin API request", 404) and kernel
 * WebSockets (403); the gateway presents those endpoints with the app's own Origin
 * (broker/core/upstream/dev-origin.ts). One server shared by the cells, at top level:
 *  (b) with the Service Worker; (c) with the cookie only (the worker refused);
 *  direct: the server on its own address, for the timings.
 * Each cell: the Lab shell renders, a session is created through the API (POST, with Jupyter's
 * XSRF token), its kernel's `channels` WebSocket connects and `6*7` round-trips to `42`, and no
 * request on the preview origin fails.
 *
 * The host page's cross-site iframe is NOT a cell: Jupyter answers with
 * `Content-Security-Policy: frame-ancestors 'self'`, so a browser will not show it in another
 * site's frame (the last test proves it, and that the gateway left the app's framing policy
 * alone); see README "Frameworks".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRealisticChromium, startRealisticStack, type RealisticStack } from '../support/realistic-domain.js';
import { freePort, installed, startDevServer, Timings, watchFailures, watchSockets, type DevServer } from './support.js';

const JUPYTER = installed('jupyterlab');
const PORT = 8888;
const SUITE = JUPYTER.ok ? `JupyterLab ${JUPYTER.version} on a realistic domain, zero config` : `JupyterLab (skipped: ${JUPYTER.reason})`;

/** In the page: a session through Jupyter's API, then `6*7` over its kernel's channels socket. */
async function runCell(): Promise<{ result: string; sessionStatus: number }> {
  const xsrf = /(?:^|;\s*)_xsrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
  const res = await fetch('/api/sessions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-xsrftoken': decodeURIComponent(xsrf) },
    body: JSON.stringify({ path: `probe-${Date.now()}.ipynb`, name: 'probe', type: 'notebook', kernel: { name: 'python3' } }),
  });
  if (res.status !== 201) return { result: `session ${res.status} ${await res.text()}`, sessionStatus: res.status };
  const session = (await res.json()) as { id: string; kernel: { id: string } };
  const url = `${location.origin.replace(/^http/, 'ws')}/api/kernels/${session.kernel.id}/channels?session_id=${session.id}`;
  const result = await new Promise<string>((resolve) => {
    const ws = new WebSocket(url);
    const msgId = `probe-${Math.random().toString(36).slice(2)}`;
    const timer = setTimeout(() => resolve('timeout'), 60_000);
    ws.onerror = () => resolve('socket error');
    ws.onopen = () =>
      ws.send(
        JSON.stringify({
          header: { msg_id: msgId, username: 'probe', session: session.id, msg_type: 'execute_request', version: '5.3', date: new Date().toISOString() },
          parent_header: {},
          metadata: {},
          content: { code: '6*7', silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
          channel: 'shell',
          buffers: [],
        }),
      );
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { parent_header?: { msg_id?: string }; msg_type?: string; content?: { data?: Record<string, string> } };
      if (msg.parent_header?.msg_id === msgId && msg.msg_type === 'execute_result') {
        clearTimeout(timer);
        ws.close();
        resolve(msg.content?.data?.['text/plain'] ?? 'no text');
      }
    };
  });
  await fetch(`/api/sessions/${session.id}`, { method: 'DELETE', headers: { 'x-xsrftoken': decodeURIComponent(xsrf) } });
  return { result, sessionStatus: res.status };
}

describe.skipIf(!JUPYTER.ok)(SUITE, { timeout: 180_000 }, () => {
  let stack: RealisticStack;
  let browser: Browser;
  let server: DevServer;
  let rootDir: string;
  let origin: string;
  const timings = new Timings('jupyterlab');
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    rootDir = mkdtempSync(join(tmpdir(), 'pg-jupyter-'));
    const port = await freePort();
    const keep = (event: string, fields?: Record<string, unknown>) => void logs.push({ event, ...fields });
    [stack, server] = await Promise.all([
      startRealisticStack({ logger: { info: keep, warn: keep, error: keep } }),
      startDevServer({
        command: JUPYTER.python!,
        args: [
          '-m',
          'jupyterlab',
          '--no-browser',
          `--port=${port}`,
          '--ip=127.0.0.1',
          '--IdentityProvider.token=',
          '--ServerApp.password=',
          `--ServerApp.root_dir=${rootDir}`,
          '--LabApp.news_url=',
          '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
          // CI runs as root (Jupyter refuses that unless told).
          ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
        ],
        cwd: rootDir,
        port,
        readyPath: '/api',
        env: { HOME: rootDir, JUPYTER_CONFIG_DIR: join(rootDir, '.jupyter'), JUPYTER_RUNTIME_DIR: join(rootDir, '.runtime') },
        timeoutMs: 120_000,
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
    if (rootDir) rmSync(rootDir, { recursive: true, force: true });
    timings.print();
  });

  async function exercise(page: Page, cell: string, opened: number): Promise<void> {
    await page.waitForSelector('#jp-main-dock-panel', { timeout: 90_000 });
    await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
    timings.add(cell, 'open → Lab shell', Date.now() - opened);
    const started = Date.now();
    expect(await page.evaluate(runCell)).toEqual({ result: '42', sessionStatus: 201 });
    timings.add(cell, 'session + kernel 6*7', Date.now() - started);
  }

  for (const cell of [
    { name: '(b) top level with the Service Worker', worker: true },
    { name: '(c) top level, cookie only (worker refused)', worker: false },
  ]) {
    it(`${cell.name}: the Lab renders, the API and a kernel's channels socket work`, async () => {
      const context = await browser.newContext(cell.worker ? {} : { serviceWorkers: 'block' });
      try {
        const page = await context.newPage();
        const failures = watchFailures(page, origin);
        const sockets = watchSockets(page, /\/api\/kernels\/[^/]+\/channels/);
        const opened = Date.now();
        const url = await stack.launchUrl(PORT, '/lab');
        await page.goto(cell.worker ? url : `${url}&sw=0`, { referer: stack.host.url });
        await page.waitForURL(`${origin}/lab**`, { timeout: 60_000 });
        expect(await page.evaluate(() => Boolean(navigator.serviceWorker?.controller))).toBe(cell.worker);
        await exercise(page, cell.worker ? 'top/worker' : 'top/cookie', opened);
        expect(sockets.length).toBeGreaterThanOrEqual(1);
        for (const s of sockets) expect(s.error).toBeUndefined();
        expect(failures).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('kernel upgrades were logged with the upstream answer 101; Jupyter refused none for its origin policy', () => {
    const upgrades = logs.filter((l) => l.event === 'upgrade' && /\/channels$/.test(String(l.path)));
    expect(upgrades.filter((l) => l.status === 101 && l.upstreamStatus === 101).length).toBeGreaterThanOrEqual(2);
    // A reconnect to a kernel the probe had just shut down may meet Jupyter's 404 (or a reset):
    // that is not an origin refusal. None may be a 403, and no refusal hint may have been logged.
    expect(upgrades.filter((l) => l.upstreamStatus === 403 || l.status === 403)).toEqual([]);
    expect(logs.filter((l) => l.event === 'dev_server_refused')).toEqual([]);
    expect(server.output()).not.toMatch(/Blocking Cross Origin/i);
  });

  it("the app's own framing policy reaches the browser unchanged (frame-ancestors 'self': no cross-site iframe)", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const url = await stack.launchUrl(PORT, '/lab');
      await page.goto(url, { referer: stack.host.url });
      await page.waitForURL(`${origin}/lab**`, { timeout: 60_000 });
      const csp = await page.evaluate(async () => (await fetch('/lab')).headers.get('content-security-policy'));
      expect(csp).toContain("frame-ancestors 'self'");
    } finally {
      await context.close();
    }
  });

  it('direct (no gateway): the same Lab and kernel round trip on the server itself, for comparison', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const opened = Date.now();
      await page.goto(`${server.url}/lab`);
      await exercise(page, 'direct', opened);
    } finally {
      await context.close();
    }
  });
});
