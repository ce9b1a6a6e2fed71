/**
 * Vite's hot reload in WebKit, in the host page's cross-site iframe: the `worker-only` path
 * (WebKit refuses every cookie there), so Vite's HMR WebSocket can only authenticate with a
 * ticket through the wrapper the worker adds to the page (sw/page/ws-shim.ts). A REAL Vite dev
 * server (demo/sandbox-apps/vite-hmr) is bound to sandbox port 5173; the test rewrites a module
 * on disk and the frame must update WITHOUT a reload (`window.__loadId` unchanged, one more
 * `__hmrUpdates`), a second time after the access token expired. Every HMR handshake that
 * reached Vite carried no gateway credential (the ticket is stripped before the app), and the
 * gateway logged no failed request. test/e2e/vite-hmr.test.ts covers Chromium.
 *
 * Skipped, with the reason, when WebKit is not installed (test/support/webkit.ts).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../broker/core/contracts.js';
import { startViteHmrApp, VITE_HMR_APP_DIR, type ViteHmrApp } from '../../demo/sandbox-apps/vite-hmr/dev-server.js';
import { launchWebKit, webkitUnavailable, type WebDriverClient, type WebKit } from '../support/webkit.js';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';

const VITE_PORT = 5173;
const MISSING = webkitUnavailable();
const SUITE = MISSING ? `WebKit Vite HMR (skipped: ${MISSING})` : 'WebKit: Vite hot reload in the cross-site iframe (worker-only)';

async function until<T>(driver: WebDriverClient, what: string, fn: (...a: never[]) => T, arg?: unknown, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await driver.call(fn, arg);
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function hmrState(): { loadId: string; updates: number; hmr: string | undefined; message: string | undefined } {
  const w = window as unknown as { __loadId: string; __hmrUpdates: number };
  return { loadId: w.__loadId, updates: w.__hmrUpdates, hmr: document.documentElement.dataset.hmr, message: document.documentElement.dataset.message };
}

describe.skipIf(Boolean(MISSING))(SUITE, () => {
  let stack: BrowserStack;
  let vite: ViteHmrApp;
  let webkit: WebKit;
  let appDir: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const lines: Record<string, unknown>[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  const logger: Logger = { info: keep, warn: keep, error: keep };
  const recorder: Plugin = {
    name: 'record-upgrades',
    configureServer(server) {
      server.httpServer?.on('upgrade', (req) => void seen.push({ url: req.url ?? '', headers: { ...req.headers } }));
    },
  };

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), 'pg-webkit-hmr-'));
    cpSync(VITE_HMR_APP_DIR, appDir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    [stack, vite, webkit] = await Promise.all([
      startBrowserStack({ logger }),
      startViteHmrApp({ root: appDir, plugins: [recorder], logLevel: 'silent' }),
      launchWebKit(),
    ]);
    await stack.emulator.bindPort(stack.sandboxId, VITE_PORT, { target: vite.url });
    stack.host.update({
      apps: [
        { port: APP_PORT, label: 'Inspector' },
        { port: VITE_PORT, label: 'Vite app (HMR)' },
      ],
    });
  });
  afterAll(async () => {
    await webkit?.driver.navigate('about:blank').catch(() => undefined);
    await webkit?.close();
    await vite?.close();
    await stack?.close();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  let edits = 0;
  async function hotEdit(): Promise<void> {
    const d = webkit.driver;
    const before = await d.call(hmrState);
    await new Promise((r) => setTimeout(r, 150)); // chokidar drops a second change within 50 ms
    const text = `edit ${++edits} (webkit)`;
    writeFileSync(join(appDir, 'message.js'), `export const message = ${JSON.stringify(text)};\n`);
    await until(d, 'the hot update', ((t: string) => document.documentElement.dataset.message === t) as (...a: never[]) => boolean, text, 15_000);
    const after = await d.call(hmrState);
    expect(after.loadId).toBe(before.loadId);
    expect(after.updates).toBe(before.updates + 1);
  }

  it('edits hot-update the frame through the HMR WebSocket (a ticket, no cookie), also after the token expired', async () => {
    const d = webkit.driver;
    await d.navigate(`${stack.host.url}?port=${VITE_PORT}`);
    await until(d, 'the embed to be ready', () => document.body.dataset.previewState === 'ready');
    expect(await d.execute('return document.body.dataset.credentialPath')).toBe('worker-only');
    await d.switchToFrame(await d.execute("return document.getElementById('preview').shadowRoot.querySelector('iframe')"));
    await until(d, 'the HMR socket', () => document.documentElement.dataset.hmr === 'connected');
    await hotEdit();
    stack.advance(stack.accessTtlMs + 5_000);
    await hotEdit();

    const hmr = seen.filter((s) => s.headers['sec-websocket-protocol'] === 'vite-hmr');
    expect(hmr.length).toBeGreaterThanOrEqual(1);
    for (const s of seen) {
      expect(new URL(s.url, 'http://x').search).not.toMatch(/__gate_/);
      expect(String(s.headers.cookie ?? '')).not.toMatch(/__Host-pg-/);
      expect(s.headers['x-daytona-preview-token']).toBeUndefined();
    }
    const host = new URL(stack.previewOrigin.replace(`//${APP_PORT}-`, `//${VITE_PORT}-`)).host;
    const mine = lines.filter((l) => (l.event === 'request' || l.event === 'upgrade') && l.host === host);
    // The HMR socket came in with a ticket the wrapper fetched (no cookie exists in this frame).
    expect(mine.some((l) => l.path === '/__gate/ws-ticket' && l.status === 200)).toBe(true);
    expect(mine.filter((l) => Number(l.status) >= 400 && l.code !== 'token_expired' && l.path !== '/favicon.ico')).toEqual([]);
  });
});
