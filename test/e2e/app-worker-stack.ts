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

/**
 * The app's worker controls the page and its activation has ended (`activated`). It already
 * controls the page while `activating`, and Chromium runs its `activate` event about a second
 * later: an update installed meanwhile has its precache deleted by the old version's cleanup of
 * "every cache but mine" (measured, ARCHITECTURE.md flow 15).
 */
export function appWorkerActivated(): boolean {
  const worker = navigator.serviceWorker?.controller;
  return Boolean(worker && new URL(worker.scriptURL).pathname === '/sw.js' && worker.state === 'activated');
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

/**
 * Remembers the worker now active (`window.__pgActive`), for `newWorkerActive`. Neither probe
 * sends a request through the app's worker: in Chromium a request reaching the old worker while
 * it stops for an update restarts it and drops that activation attempt (ARCHITECTURE.md flow 15).
 */
export async function markActiveWorker(): Promise<boolean> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  (window as unknown as { __pgActive?: ServiceWorker | null }).__pgActive = reg?.active ?? null;
  return Boolean(reg?.active);
}

/** A worker other than the one `markActiveWorker` saw is active and controls the page. */
export async function newWorkerActive(): Promise<boolean> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  const old = (window as unknown as { __pgActive?: ServiceWorker | null }).__pgActive;
  const active = reg?.active;
  return Boolean(active && active !== old && active.state === 'activated' && navigator.serviceWorker.controller === active);
}

/** Where the update stands: each worker of the registration as "scriptURL state", and the controller's. */
export async function registrationState(): Promise<Record<string, string | null>> {
  const r = await navigator.serviceWorker.getRegistration('/');
  const d = (w: ServiceWorker | null | undefined) => (w ? `${new URL(w.scriptURL).pathname} ${w.state}` : null);
  return { installing: d(r?.installing), waiting: d(r?.waiting), active: d(r?.active), controller: d(navigator.serviceWorker.controller) };
}

/** Asks the browser to check the app's worker for an update (what a PWA does on a timer). */
export async function checkForUpdate(): Promise<boolean> {
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg) return false;
  await reg.update();
  return true;
}

/**
 * Makes the worker's grant due for renewal: rewrites the stored grant (idb-keyval's default
 * database, key `preview-gate:tokens`, sw/worker/token-store.ts) as received 100 s ago with 20 s
 * left (renewal is due under 30 s left, sw/worker/renew.ts#needsRenewal; the access token itself
 * is unchanged and still valid at the gateway), then tells the controlling worker to re-read it
 * (`preview-gate:tokens-changed`, as the bootstrap does) and waits for its answer.
 */
export async function makeGrantDue(): Promise<boolean> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open('keyval-store');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = () => db.transaction('keyval', 'readwrite').objectStore('keyval');
  const grant = await new Promise<Record<string, unknown> | undefined>((resolve) => {
    const get = tx().get('preview-gate:tokens');
    get.onsuccess = () => resolve(get.result as Record<string, unknown> | undefined);
    get.onerror = () => resolve(undefined);
  });
  if (!grant) return false;
  const now = Date.now();
  await new Promise<void>((resolve, reject) => {
    const put = tx().put({ ...grant, receivedAt: now - 100_000, expiresAt: now + 20_000 }, 'preview-gate:tokens');
    put.onsuccess = () => resolve();
    put.onerror = () => reject(put.error);
  });
  db.close();
  const worker = navigator.serviceWorker.controller;
  if (!worker) return false;
  return new Promise<boolean>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(true);
    worker.postMessage({ type: 'preview-gate:tokens-changed' }, [channel.port2]);
    setTimeout(() => resolve(false), 5_000);
  });
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

/* ---------- the top-level story, shared by the Firefox and WebKit files ---------- */

/** One engine's handle on the preview document (Playwright, puppeteer or WebDriver underneath). */
export interface Probe {
  /** Runs a self-contained page-side function in the preview document and awaits its result. */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Reloads the preview document (resolves once the navigation began; wait with `until`). */
  reload(): Promise<void>;
  /** Deletes every cookie of the preview origin, HttpOnly ones included. */
  clearCookies(): Promise<void>;
}

/** Polls `fn` until truthy; an evaluation racing a navigation counts as "not yet". */
export async function until(probe: Probe, what: string, fn: () => unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe.run(fn)) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reloads and waits for the sample page to have started again (a marker proves it is a new document). */
export async function reloadPwa(probe: Probe, what: string): Promise<void> {
  await probe.run(() => void ((window as unknown as { __old?: boolean }).__old = true));
  await probe.reload();
  await until(probe, what, () => !(window as unknown as { __old?: boolean }).__old && document.documentElement.dataset.pwaDone === 'true');
}

const ALL_200 = { statuses: [200, 200, 200, 200, 200, 200], identity: [true, true, true, true, true, true] };
/** The browser's own update check of the app's script: nothing but the cookie can carry it. */
const UPDATE_CHECK_REFUSED = /^401 \/sw\.js missing_credential$/;

/**
 * The app's worker at top level, where the cookie comes with its script fetch: installed wrapped,
 * takes over, does its job; reloads; updates itself; keeps every request authenticated with the
 * gateway's cookies deleted (the token, attached inside the app's worker); survives an access
 * token expiry; shows its offline page. `expectOk` counts failures (see AppWorkerStack.failures).
 */
export async function topLevelStory(env: AppWorkerStack, probe: Probe, expect: typeof import('vitest').expect): Promise<void> {
  // 1. Installed and in control.
  await until(probe, 'the sample page', pwaDone, 60_000);
  const state = await probe.run(pwaState);
  expect(state.registered).toBe('ok');
  expect(state.api).toEqual({ identity: true, method: 'GET' });
  await until(probe, "the app's worker to control the page", appWorkerControls);
  const scriptFetches = env.pwa.requests.filter((r) => r.serviceWorker);
  expect(scriptFetches.length).toBeGreaterThanOrEqual(1);
  expect(scriptFetches.every((r) => r.identity && r.path === '/sw.js')).toBe(true);
  expect(await probe.run(workerVersion)).toBe('v1');
  await until(probe, "the app's precache", async () => (await caches.keys()).includes('pwa-sample-v1'));
  expect(await probe.run(cachedShell)).toEqual({ names: ['pwa-sample-v1'], paths: { 'pwa-sample-v1': SHELL } });
  expect(env.failures()).toEqual([]);

  // 2. A reload through the app's worker.
  await reloadPwa(probe, 'the sample page after reload');
  expect(await probe.run(apiCalls)).toEqual(ALL_200);

  // 3. The app's worker updates itself.
  env.pwa.setVersion('v2');
  expect(await probe.run(checkForUpdate)).toBe(true);
  await until(probe, 'the v2 worker', async () => (await fetch('/sw-version', { cache: 'no-store' }).then((r) => r.json())).version === 'v2');
  await until(probe, "v1's cache to go", async () => (await caches.keys()).every((k) => k !== 'pwa-sample-v1'));
  expect(await probe.run(cachedShell)).toEqual({ names: ['pwa-sample-v2'], paths: { 'pwa-sample-v2': SHELL } });
  await reloadPwa(probe, 'the sample page under v2');
  expect(await probe.run(apiCalls)).toEqual(ALL_200);
  expect(env.failures()).toEqual([]);

  // 4. Without the gateway's cookies: only the token inside the app's worker can authenticate.
  await probe.clearCookies();
  let from = env.mark();
  const seen = env.pwa.requests.length;
  await reloadPwa(probe, 'the sample page without cookies');
  expect((await probe.run(pwaState)).api).toEqual({ identity: true, method: 'GET' });
  expect(await probe.run(apiCalls)).toEqual(ALL_200);
  const after = env.pwa.requests.slice(seen).filter((r) => !r.serviceWorker);
  expect(after.map((r) => r.identity)).not.toContain(false);
  expect(after.map((r) => r.path)).toEqual(expect.arrayContaining(['/', '/app.js', '/api/whoami']));
  expect(env.pwa.requests.some((r) => r.gateCredential)).toBe(false);
  expect(env.failures(from).filter((f) => !UPDATE_CHECK_REFUSED.test(f))).toEqual([]);

  // 5. An access token expiring mid-session, renewed inside the app's worker.
  from = env.mark();
  env.stack.advance(env.stack.accessTtlMs + 5_000);
  expect(await probe.run(apiCalls)).toEqual(ALL_200);
  await reloadPwa(probe, 'the sample page after expiry');
  expect(env.failures(from).filter((f) => !UPDATE_CHECK_REFUSED.test(f))).toEqual([]);

  // 6. The app cannot be reached: its worker shows its offline page, from its cache.
  env.pwa.setDown(true);
  try {
    await probe.run(() => void ((window as unknown as { __old?: boolean }).__old = true));
    await probe.reload();
    await until(
      probe,
      'the offline page',
      () => !(window as unknown as { __old?: boolean }).__old && document.body?.dataset.offline === 'true' && document.readyState === 'complete',
    );
    expect(await probe.run(styled)).toBe(true);
    expect(await probe.run(() => location.pathname)).toBe('/');
  } finally {
    env.pwa.setDown(false);
  }
  await reloadPwa(probe, 'the sample page once the app is back');
}
