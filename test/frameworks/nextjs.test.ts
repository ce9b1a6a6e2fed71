/**
 * A REAL Next.js dev server (Turbopack, App Router; installed from npm by
 * scripts/ensure-frameworks.mjs) through the gateway on the realistic preview domain
 * (`https://3000-{id}.preview.example.test`, test/support/realistic-domain.ts), with ZERO Next
 * configuration (no `allowedDevOrigins`): the gateway presents Next's dev endpoints with the
 * app's own Origin (broker/core/upstream/dev-origin.ts). One dev server shared by the cells:
 *  (a) the host page's cross-site iframe, third-party cookies blocked (partitioned cookie);
 *  (b) top level with the Service Worker;
 *  direct: the dev server opened on its own address, for the timings.
 * Each cell: the page server-renders and hydrates (a client component's counter), an API route
 * answers, a Server Action round-trips (it keeps the real Origin: Next's CSRF check compares it
 * with X-Forwarded-Host), the HMR WebSocket connects, a server-component edit reaches the DOM
 * without a full reload, and no request on the preview origin fails.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRealisticChromium, startRealisticStack, type RealisticStack } from '../support/realistic-domain.js';
import { FRAMEWORKS_DIR, freePort, installed, startDevServer, Timings, watchFailures, watchSockets, type DevServer } from './support.js';

const NEXT = installed('next');
const PORT = 3000;
const SUITE = NEXT.ok ? `Next.js ${NEXT.version} dev (Turbopack) on a realistic domain, zero config` : `Next.js dev (skipped: ${NEXT.reason})`;

const FILES: Record<string, string> = {
  'next.config.mjs': `export default { turbopack: { root: ${JSON.stringify(join(FRAMEWORKS_DIR, 'next'))} }, devIndicators: false };\n`,
  'app/layout.js': `export default function RootLayout({ children }) { return <html lang="en"><body>{children}</body></html>; }\n`,
  'app/message.js': `export const message = 'first render';\n`,
  'app/page.js': `import { message } from './message';
import Counter from './counter';
export default function Page() {
  return <main><h1 id="server-text">{message}</h1><Counter /></main>;
}
`,
  'app/counter.js': `'use client';
import { useEffect, useState } from 'react';
import { double } from './actions';
export default function Counter() {
  const [n, setN] = useState(0);
  const [doubled, setDoubled] = useState('');
  useEffect(() => {
    window.__loadId ??= Math.random().toString(36).slice(2);
    document.documentElement.dataset.hydrated = 'true';
  }, []);
  return (
    <div>
      <button id="inc" onClick={() => setN(n + 1)}>count {n}</button>
      <button id="act" onClick={async () => setDoubled(String(await double(21)))}>action</button>
      <output id="doubled">{doubled}</output>
    </div>
  );
}
`,
  'app/actions.js': `'use server';
export async function double(x) { return x * 2; }
`,
  'app/api/hello/route.js': `export function GET() { return Response.json({ hello: 'next' }); }\n`,
};

describe.skipIf(!NEXT.ok)(SUITE, { timeout: 240_000 }, () => {
  let stack: RealisticStack;
  let browser: Browser;
  let next: DevServer;
  let appDir: string;
  let origin: string;
  const timings = new Timings('nextjs');
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // Inside the cache directory, so Next and React resolve from its node_modules.
    appDir = join(FRAMEWORKS_DIR, 'next', `app-${process.pid}`);
    rmSync(appDir, { recursive: true, force: true });
    for (const [name, text] of Object.entries(FILES)) {
      mkdirSync(join(appDir, name, '..'), { recursive: true });
      writeFileSync(join(appDir, name), text);
    }
    mkdirSync(join(appDir, 'public'), { recursive: true });
    writeFileSync(join(appDir, 'public', 'favicon.ico'), Buffer.alloc(0));
    const port = await freePort();
    const keep = (event: string, fields?: Record<string, unknown>) => void logs.push({ event, ...fields });
    [stack, next] = await Promise.all([
      startRealisticStack({ logger: { info: keep, warn: keep, error: keep } }),
      startDevServer({
        command: process.execPath,
        args: [NEXT.bin!, 'dev', '--turbopack', '--port', String(port), '--hostname', '127.0.0.1'],
        cwd: appDir,
        port,
        env: { NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'development' },
        timeoutMs: 180_000,
      }),
    ]);
    browser = await launchRealisticChromium(stack.spki);
    await stack.bind(PORT, next.url);
    origin = stack.previewOrigin(PORT);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await next?.close();
    await stack?.close();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    timings.print();
  });

  let edits = 0;
  /** Rewrites the server component's message; waits for the DOM; proves no full reload. */
  async function edit(target: Frame | Page, cell: string): Promise<void> {
    const text = `edit ${++edits}`;
    const loadId = await target.evaluate(() => (window as unknown as { __loadId: string }).__loadId);
    await new Promise((r) => setTimeout(r, 200));
    const written = Date.now();
    writeFileSync(join(appDir, 'app', 'message.js'), `export const message = ${JSON.stringify(text)};\n`);
    await target.waitForFunction((t) => document.getElementById('server-text')?.textContent === t, text, { timeout: 60_000 });
    timings.add(cell, 'server-component edit → DOM', Date.now() - written);
    expect(await target.evaluate(() => (window as unknown as { __loadId: string }).__loadId)).toBe(loadId);
  }

  /** Hydration, the API route, the Server Action, the HMR socket and one edit. */
  async function exercise(target: Frame | Page, cell: string, sockets: ReturnType<typeof watchSockets>, opened: number): Promise<void> {
    await target.waitForFunction(() => document.documentElement.dataset.hydrated === 'true', undefined, { timeout: 90_000 });
    timings.add(cell, 'open → hydrated', Date.now() - opened);
    await target.click('#inc');
    await target.waitForFunction(() => document.getElementById('inc')?.textContent === 'count 1', undefined, { timeout: 10_000 });
    expect(await target.evaluate(async () => (await (await fetch('/api/hello')).json()) as unknown)).toEqual({ hello: 'next' });
    await target.click('#act');
    await target.waitForFunction(() => document.getElementById('doubled')?.textContent === '42', undefined, { timeout: 30_000 });
    await expect.poll(() => sockets.filter((s) => !s.closed && s.frames > 0).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await edit(target, cell);
    await edit(target, cell);
    for (const s of sockets) expect(s.error).toBeUndefined();
  }

  it('(a) cross-site iframe, third-party cookies blocked: renders, hydrates, HMR, Server Action', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page, origin);
      const sockets = watchSockets(page, /\/_next\/(webpack-)?hmr/);
      const opened = Date.now();
      await page.goto(`${stack.host.url}?port=${PORT}`);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 90_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('cookie');
      const frame = page.frames().find((f) => f.url().startsWith(origin))!;
      await exercise(frame, 'iframe/cookie', sockets, opened);
      expect(sockets.every((s) => s.url.startsWith(origin.replace(/^https/, 'wss')))).toBe(true);
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('(b) top level with the Service Worker: renders, hydrates, HMR, Server Action', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const failures = watchFailures(page, origin);
      const sockets = watchSockets(page, /\/_next\/(webpack-)?hmr/);
      const opened = Date.now();
      await page.goto(await stack.launchUrl(PORT), { referer: stack.host.url });
      await page.waitForURL(`${origin}/`, { timeout: 90_000 });
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker?.controller))).toBe(true);
      await exercise(page, 'top/worker', sockets, opened);
      expect(failures).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('every HMR upgrade was logged with the upstream answer 101, and Next never blocked a cross-origin dev request', () => {
    const hmr = logs.filter((l) => l.event === 'upgrade' && /\/_next\/(webpack-)?hmr$/.test(String(l.path)));
    expect(hmr.length).toBeGreaterThanOrEqual(2);
    for (const l of hmr) expect(l).toMatchObject({ status: 101, upstreamStatus: 101 });
    expect(logs.filter((l) => l.event === 'dev_server_refused')).toEqual([]);
    expect(next.output()).not.toMatch(/Blocked cross-origin request/i);
  });

  it('control: with the presentation switched off (GATE_DEV_SERVER_ORIGIN=false) Next refuses the HMR socket, and the gateway logs the hint once', async () => {
    const offLogs: Record<string, unknown>[] = [];
    const keep = (event: string, fields?: Record<string, unknown>) => void offLogs.push({ event, ...fields });
    const off = await startRealisticStack({ devServerOrigin: false, logger: { info: keep, warn: keep, error: keep } });
    const offBrowser = await launchRealisticChromium(off.spki);
    try {
      await off.bind(PORT, next.url);
      const page = await offBrowser.newPage();
      await page.goto(await off.launchUrl(PORT), { referer: off.host.url });
      await expect.poll(() => offLogs.filter((l) => l.event === 'dev_server_refused').length, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
      const refused = offLogs.find((l) => l.event === 'upgrade' && /\/_next\/(webpack-)?hmr$/.test(String(l.path)));
      // Next answers the refused upgrade with bare `Unauthorized` bytes, not HTTP: logged as such, never as 101.
      expect(refused).toMatchObject({ status: 502, upstreamStatus: 'malformed' });
      const hints = offLogs.filter((l) => l.event === 'dev_server_refused');
      expect(hints.map((h) => h.framework)).toEqual(['nextjs']);
      expect(String(hints[0]!.hint)).toContain("allowedDevOrigins: ['*.preview.example.test']");
    } finally {
      await offBrowser.close();
      await off.close();
    }
  });

  it('direct (no gateway): the same page and edit on the dev server itself, for comparison', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const sockets = watchSockets(page, /\/_next\/(webpack-)?hmr/);
      const opened = Date.now();
      await page.goto(`${next.url}/`);
      await exercise(page, 'direct', sockets, opened);
    } finally {
      await context.close();
    }
  });
});
