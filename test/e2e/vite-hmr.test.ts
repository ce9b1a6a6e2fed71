/**
 * A REAL Vite dev server (demo/sandbox-apps/vite-hmr, Vite's own `createServer`) behind the
 * gateway: sandbox port 5173 is bound to it, Chromium opens the preview, the test rewrites a
 * module on disk and the page must update through Vite's HMR WebSocket WITHOUT a reload
 * (`window.__loadId`, set once per page load, unchanged). Both credential paths:
 *  (a) a cross-site iframe in the demo host page with third-party cookies blocked: no worker,
 *      the HMR handshake authenticates with the partitioned cookie;
 *  (b) top level with the Service Worker controlling the page (the worker carries the module
 *      requests; the WebSocket, which no worker sees, rides the Lax cookie).
 * A Vite plugin records every handshake and request that reached Vite: none carries a gateway
 * credential (`__Host-pg-*` cookie, `__gate_*` parameter, token header). The second edit of
 * each case comes after the access token expired (the gateway's clock jumps); then Vite's end of
 * the socket is dropped (a dev-server restart) and the page must find the server again through
 * the gateway (`vite-ping`), reload and hot-update once more. The same edit on the dev server
 * opened directly gives the latency without the gateway, for comparison.
 *
 * The app is served from a temporary copy (the committed source is never edited).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Browser, BrowserContext, ConsoleMessage, Frame, Page } from 'playwright-core';
import type { Plugin } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViteHmrApp, VITE_HMR_APP_DIR, type ViteHmrApp } from '../../demo/sandbox-apps/vite-hmr/dev-server.js';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, openLaunch, startBrowserStack, type BrowserStack } from './browser-stack.js';
import { frameOn } from './inspector.js';

const VITE_PORT = 5173;

interface Seen {
  kind: 'upgrade' | 'http';
  url: string;
  headers: IncomingHttpHeaders;
}

let stack: BrowserStack;
let vite: ViteHmrApp;
let browser: Browser;
let appDir: string;
let viteOrigin: string;
const seen: Seen[] = [];
/** Vite's side of every open HMR socket (to drop them, as a restarting dev server would). */
const hmrSockets = new Set<Duplex>();
const timings: Record<string, number[]> = {};

/** Records what reached the dev server: every upgrade (the HMR handshake) and HTTP request. */
function recorder(): Plugin {
  return {
    name: 'record-requests',
    configureServer(server) {
      server.httpServer?.on('upgrade', (req, socket: Duplex) => {
        seen.push({ kind: 'upgrade', url: req.url ?? '', headers: { ...req.headers } });
        if (req.headers['sec-websocket-protocol'] !== 'vite-hmr') return;
        hmrSockets.add(socket);
        socket.once('close', () => hmrSockets.delete(socket));
      });
      server.middlewares.use((req, _res, next) => {
        seen.push({ kind: 'http', url: req.url ?? '', headers: { ...req.headers } });
        next();
      });
    },
  };
}

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), 'pg-vite-hmr-'));
  cpSync(VITE_HMR_APP_DIR, appDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
  [stack, vite, browser] = await Promise.all([
    startBrowserStack(),
    startViteHmrApp({ root: appDir, plugins: [recorder()], logLevel: 'silent' }),
    launchChromium(),
  ]);
  await stack.emulator.bindPort(stack.sandboxId, VITE_PORT, { target: vite.url });
  stack.host.update({
    apps: [
      { port: APP_PORT, label: 'Inspector' },
      { port: VITE_PORT, label: 'Vite app (HMR)' },
    ],
  });
  viteOrigin = stack.previewOrigin.replace(`//${APP_PORT}-`, `//${VITE_PORT}-`);
});

afterAll(async () => {
  await browser?.close();
  await vite?.close();
  await stack?.close();
  if (appDir) rmSync(appDir, { recursive: true, force: true });
  if (Object.keys(timings).length) console.log('[vite-hmr] edit → DOM update (ms):', JSON.stringify(timings));
});

/**
 * Vite's client complaining about its socket (or silently going around the gateway), and every
 * WebSocket URL the page (or its frames) opened.
 */
function watchVite(page: Page): { problems: string[]; sockets: string[] } {
  const problems: string[] = [];
  const sockets: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    const text = m.text();
    if (/failed to connect to websocket|Direct websocket connection fallback/i.test(text)) problems.push(text);
  });
  page.on('websocket', (ws) => sockets.push(ws.url()));
  return { problems, sockets };
}

/**
 * The browser opened every socket on the preview origin (the gateway): Vite's HMR sockets with
 * Vite's token as their only parameter, the pings with none.
 */
function expectSocketsOnGateway(sockets: string[]): void {
  const wsOrigin = viteOrigin.replace(/^http/, 'ws');
  expect(sockets.filter((url) => url.startsWith(`${wsOrigin}/?token=`)).length).toBeGreaterThanOrEqual(1);
  for (const url of sockets) {
    const u = new URL(url);
    expect(u.origin).toBe(wsOrigin);
    expect([...u.searchParams.keys()].filter((k) => k !== 'token')).toEqual([]);
  }
}

let edits = 0;
/** Rewrites message.js on disk; waits for the page to show it; proves it was a hot update. */
async function hotEdit(target: Frame | Page, label: string): Promise<void> {
  const text = `edit ${++edits} (${label})`;
  const before = await target.evaluate(() => {
    const w = window as unknown as { __loadId: string; __hmrUpdates: number };
    return { loadId: w.__loadId, updates: w.__hmrUpdates };
  });
  // The file watcher (chokidar) drops a second `change` of the same file within 50 ms: space
  // the edits like a person would (an edit lands ~30 ms after the previous one otherwise).
  await new Promise((r) => setTimeout(r, 120));
  const written = Date.now();
  writeFileSync(join(appDir, 'message.js'), `export const message = ${JSON.stringify(text)};\n`);
  await target.waitForFunction((t) => document.documentElement.dataset.message === t, text, { timeout: 10_000 });
  const after = await target.evaluate(() => {
    const w = window as unknown as { __loadId: string; __hmrUpdates: number; __hmrAppliedAt: number };
    return { loadId: w.__loadId, updates: w.__hmrUpdates, appliedAt: w.__hmrAppliedAt };
  });
  // Same document (no full reload), one more hot update applied by main.js's accept handler.
  expect(after.loadId).toBe(before.loadId);
  expect(after.updates).toBe(before.updates + 1);
  (timings[label] ??= []).push(after.appliedAt - written);
}

/** Waits until the page's HMR socket is open (a ping/pong round trip over it). */
async function hmrConnected(target: Frame | Page): Promise<void> {
  await target.waitForFunction(() => document.documentElement.dataset.hmr === 'connected', undefined, { timeout: 15_000 });
}

/**
 * Vite's end of the HMR socket goes away (the dev server restarts): the page polls with
 * `vite-ping` handshakes through the gateway until one succeeds, then reloads, which opens a new
 * HMR socket. At top level Vite's client pings from a SharedWorker; in a cross-site iframe with
 * third-party cookies blocked Chromium refuses that worker (Vite 8's client then waits forever),
 * so the sample app's main.js pings from the page. Returns the ms from the drop to the reloaded
 * page's socket being open.
 */
async function dropAndRecover(target: Frame | Page): Promise<number> {
  const loadId = await target.evaluate(() => (window as unknown as { __loadId: string }).__loadId);
  expect(hmrSockets.size).toBeGreaterThanOrEqual(1);
  const dropped = Date.now();
  for (const socket of hmrSockets) socket.destroy();
  await target.waitForFunction(
    (before) => (window as unknown as { __loadId?: string }).__loadId !== before && document.documentElement.dataset.hmr === 'connected',
    loadId,
    { timeout: 15_000 },
  );
  return Date.now() - dropped;
}

/** Every HMR handshake and request that reached Vite since `from`, checked for gateway credentials. */
function expectCleanThroughGateway(from: number): void {
  const previewHost = new URL(viteOrigin).host;
  const reached = seen.slice(from);
  const hmr = reached.filter((s) => s.kind === 'upgrade' && s.headers['sec-websocket-protocol'] === 'vite-hmr');
  const pings = reached.filter((s) => s.kind === 'upgrade' && s.headers['sec-websocket-protocol'] === 'vite-ping');
  expect(hmr.length).toBeGreaterThanOrEqual(2); // the first socket, and the one after the reload
  expect(pings.length).toBeGreaterThanOrEqual(1);
  for (const s of pings) {
    expect(s.headers.host).toBe(`localhost:${VITE_PORT}`);
    expect(s.headers.origin).toBe(viteOrigin);
  }
  for (const s of hmr) {
    // Through Daytona's proxy (its Host, the public host forwarded), from the preview page,
    // with Vite's own anti-hijack token and the gateway's identity assertion.
    expect(s.headers.host).toBe(`localhost:${VITE_PORT}`);
    expect(String(s.headers['x-forwarded-host'])).toContain(previewHost);
    expect(s.headers.origin).toBe(viteOrigin);
    expect(s.url).toMatch(/^\/\?token=[\w-]+$/);
    expect(s.headers['x-preview-gate-identity']).toBeTruthy();
  }
  for (const s of reached) {
    expect(String(s.headers.cookie ?? '')).not.toContain('__Host-pg-');
    expect(s.url).not.toContain('__gate_');
    expect(s.headers['x-daytona-preview-token']).toBeUndefined();
    expect(s.headers.authorization).toBeUndefined();
    expect(s.headers['x-preview-gate-via']).toBeUndefined();
  }
}

describe('a real Vite dev server with hot module reload, through the gateway', () => {
  it('(a) cross-site iframe, third-party cookies blocked: the HMR socket rides the partitioned cookie', async () => {
    const context: BrowserContext = await browser.newContext();
    try {
      const page = await context.newPage();
      const { problems, sockets } = watchVite(page);
      const from = seen.length;
      await page.goto(`${stack.host.url}?port=${VITE_PORT}`);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 20_000 });
      expect(await page.evaluate(() => document.body.dataset.credentialPath)).toBe('cookie');
      const frame = frameOn(page, viteOrigin);
      await hmrConnected(frame);
      await hotEdit(frame, 'iframe/cookie');
      // A person edits again after the access token expired: the open socket keeps working and
      // the updated module's request is renewed server-side (the refresh cookie).
      stack.advance(stack.accessTtlMs + 5_000);
      await hotEdit(frame, 'iframe/cookie');
      // The dev server drops its sockets (a restart), the access token expired again: the
      // client's pings and the page's reload renew through the refresh cookie.
      stack.advance(stack.accessTtlMs + 5_000);
      (timings['iframe/cookie: drop → reloaded + reconnected'] ??= []).push(await dropAndRecover(frame));
      await hotEdit(frame, 'iframe/cookie');
      expect(problems).toEqual([]);
      expectSocketsOnGateway(sockets);
      expectCleanThroughGateway(from);
    } finally {
      await context.close();
    }
  });

  it('(b) top level with the Service Worker active: module requests via the worker, HMR socket via the Lax cookie', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const { problems, sockets } = watchVite(page);
      const from = seen.length;
      const res = await stack.api('POST', '/api/previews', { sandboxId: stack.sandboxId, port: VITE_PORT, path: '/', hostOrigin: stack.host.origin });
      expect(res.status).toBe(201);
      const { url } = (await res.json()) as { url: string };
      await openLaunch(page, url, stack.host.url); // as the host page opens it (login-CSRF binding)
      await page.waitForURL(`${viteOrigin}/`, { timeout: 20_000 });
      expect(await page.evaluate(() => Boolean(navigator.serviceWorker?.controller))).toBe(true);
      await hmrConnected(page);
      await hotEdit(page, 'top/worker');
      // After the access token expired: the worker renews before fetching the updated module.
      stack.advance(stack.accessTtlMs + 5_000);
      await hotEdit(page, 'top/worker');
      stack.advance(stack.accessTtlMs + 5_000);
      (timings['top/worker: drop → reloaded + reconnected'] ??= []).push(await dropAndRecover(page));
      await hotEdit(page, 'top/worker');
      // The updated module was fetched by the page through its worker (`message.js?t=…`).
      expect(seen.slice(from).some((s) => s.kind === 'http' && /^\/message\.js\?t=\d+/.test(s.url))).toBe(true);
      expect(problems).toEqual([]);
      expectSocketsOnGateway(sockets);
      expectCleanThroughGateway(from);
    } finally {
      await context.close();
    }
  });

  it('baseline: the same edit on the dev server opened directly (no gateway, no Daytona proxy)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${vite.url}/`);
      await hmrConnected(page);
      await hotEdit(page, 'direct');
      await hotEdit(page, 'direct');
    } finally {
      await context.close();
    }
  });
});
