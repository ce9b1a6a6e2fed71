/**
 * Shared by test/e2e/app-worker*.test.ts (ARCHITECTURE.md flow 15): the browser stack
 * (test/e2e/browser-stack.ts) with its sandbox's port 3000 bound to the PWA sample app
 * (demo/sandbox-apps/pwa: its own Service Worker at `/`, precache, offline page), the gateway's
 * request log for the failure count, and page-side probes (self-contained functions, evaluated in
 * the page by Playwright, puppeteer or WebDriver alike).
 */
import type { Logger } from '../../broker/core/contracts.js';
import { startPwaApp, type PwaApp } from '../../demo/sandbox-apps/pwa/server.js';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';

export interface AppWorkerStack {
  stack: BrowserStack;
  pwa: PwaApp;
  /** The gateway's log lines (request and upgrade lines carry host, path, status, code). */
  lines: Record<string, unknown>[];
  /** A mark in the log: `failures(mark)` counts from there. */
  mark(): number;
  /**
   * Status >= 400 answers of the preview origin the gateway logged since `from`, as
   * "status path code", less the worker's own first attempts with an expired token
   * (`token_expired`: renewed and retried by design, never seen by the app) and favicon probes.
   */
  failures(from?: number): string[];
  close(): Promise<void>;
}

export async function startAppWorkerStack(opts: { https?: boolean; accessTtlSeconds?: number } = {}): Promise<AppWorkerStack> {
  const lines: Record<string, unknown>[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  const logger: Logger = { info: keep, warn: keep, error: keep };
  const [stack, pwa] = await Promise.all([startBrowserStack({ logger, https: opts.https, accessTtlSeconds: opts.accessTtlSeconds }), startPwaApp()]);
  await stack.emulator.bindPort(stack.sandboxId, APP_PORT, { target: pwa.url });
  const host = new URL(stack.previewOrigin).host;
  return {
    stack,
    pwa,
    lines,
    mark: () => lines.length,
    failures: (from = 0) =>
      lines
        .slice(from)
        .filter((l) => (l.event === 'request' || l.event === 'upgrade') && l.host === host && Number(l.status) >= 400)
        .filter((l) => l.code !== 'token_expired' && l.path !== '/favicon.ico')
        .map((l) => `${String(l.status)} ${String(l.path)} ${String(l.code ?? '')}`.trim()),
    async close() {
      await stack.close();
      await pwa.close();
    },
  };
}

/* ---------- page-side probes (self-contained: no closures, no imports) ---------- */

/** The sample page finished its start (registered its worker, called its API). */
export function pwaDone(): boolean {
  return document.documentElement.dataset.pwaDone === 'true' && location.pathname === '/';
}

/** The script URL of the worker controlling this page, or null. */
export function controllerScript(): string | null {
  return navigator.serviceWorker?.controller?.scriptURL ?? null;
}

/** True once the app's worker (`/sw.js`, wrapped by the gateway) controls the page. */
export function appWorkerControls(): boolean {
  const url = navigator.serviceWorker?.controller?.scriptURL;
  return Boolean(url && new URL(url).pathname === '/sw.js');
}

/** What the sample page saw: its registration result and its API answer. */
export function pwaState(): { registered: string; api: { identity?: boolean; status?: number } | null } {
  const s = (window as unknown as { __pwa: { registered: string; api: { identity?: boolean; status?: number } | null } }).__pwa;
  return { registered: s.registered, api: s.api };
}

/** The version the app's worker reports (`/sw-version`, answered by the worker itself; "none" without it). */
export async function workerVersion(): Promise<string> {
  const res = await fetch('/sw-version', { cache: 'no-store' });
  return ((await res.json()) as { version: string }).version;
}

/** The paths the app's worker has in its cache `pwa-sample-{version}`, sorted; and the cache names. */
export async function cachedShell(): Promise<{ names: string[]; paths: Record<string, string[]> }> {
  const names = (await caches.keys()).filter((k) => k.startsWith('pwa-sample-')).sort();
  const paths: Record<string, string[]> = {};
  for (const name of names) {
    const keys = await (await caches.open(name)).keys();
    paths[name] = keys.map((r) => new URL(r.url).pathname).sort();
  }
  return { names, paths };
}

/** Asks the browser to check the app's worker for an update (what a PWA does on a timer). */
export async function checkForUpdate(): Promise<boolean> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg) return false;
  await reg.update();
  return true;
}

/** The app's API through the page: GET and POST (statuses and whether the gateway authenticated them). */
export async function apiCalls(): Promise<{ statuses: number[]; identity: boolean[] }> {
  const rs = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      fetch(`/api/whoami?i=${i}`, { method: i % 2 ? 'POST' : 'GET', headers: { accept: 'application/json' }, ...(i % 2 ? { body: `b${i}` } : {}) }),
    ),
  );
  const bodies = await Promise.all(rs.map((r) => r.json().catch(() => ({}) as { identity?: boolean })));
  return { statuses: rs.map((r) => r.status), identity: bodies.map((b) => (b as { identity?: boolean }).identity === true) };
}

/** True on the app's offline page (served from its worker's cache). */
export function onOfflinePage(): boolean {
  return document.body?.dataset.offline === 'true' && document.readyState === 'complete';
}

/** The style sheet applied (the offline page's CSS came from the cache too). */
export function styled(): boolean {
  return getComputedStyle(document.body).marginTop === '32px';
}

export const SHELL = ['/', '/app.js', '/logo.svg', '/offline.html', '/style.css'];
