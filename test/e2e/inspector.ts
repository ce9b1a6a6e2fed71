/**
 * Reading the inspector sample app (demo/emulator/inspector) from a Playwright frame or page, and
 * page-side probes sent as source (`page.evaluate(fn)`, `driver.call(fn)`; keep them
 * self-contained: no imports, no outer variables).
 */
import type { Frame, Page } from 'playwright-core';

export const CHECK_NAMES = ['script', 'style', 'image', 'fetch', 'post', 'ws', 'sse', 'download'] as const;

/** Waits until the inspector finished its checks; returns name → result ('ok' or 'fail:...'). */
export async function inspectorResults(target: Frame | Page, timeoutMs = 20_000): Promise<Record<string, string>> {
  await target.waitForFunction(() => document.documentElement.dataset.inspectorDone === 'true', undefined, { timeout: timeoutMs });
  return target.evaluate(() => ({ ...(window as unknown as { __inspector: { results: Record<string, string> } }).__inspector.results }));
}

export const ALL_OK = Object.fromEntries(CHECK_NAMES.map((c) => [c, 'ok']));

/** Header and cookie names of the gateway's own credentials: none may reach the app. */
export function gatewayCredentialsIn(report: {
  headers: Record<string, unknown>;
  cookies: Record<string, unknown>;
  query?: Record<string, unknown>;
}): string[] {
  const found: string[] = [];
  for (const name of Object.keys(report.headers)) {
    const n = name.toLowerCase();
    if (n === 'x-daytona-preview-token' || n === 'authorization' || n.startsWith('x-preview-gate-via')) found.push(`header:${n}`);
  }
  for (const name of Object.keys(report.cookies)) if (name.startsWith('__Host-pg-')) found.push(`cookie:${name}`);
  for (const name of Object.keys(report.query ?? {})) if (name.startsWith('__gate_')) found.push(`query:${name}`);
  return found;
}

/** What the app saw for the document request and for a fetch from the page. */
export async function appSaw(target: Frame | Page): Promise<{ document: string[]; fetch: string[] }> {
  const [doc, fetched] = await target.evaluate(async () => {
    const d = (window as unknown as { __inspector: { request: unknown } }).__inspector.request;
    const f = await (await fetch('/api/echo', { headers: { accept: 'application/json' } })).json();
    return [d, f];
  });
  return { document: gatewayCredentialsIn(doc as never), fetch: gatewayCredentialsIn(fetched as never) };
}

/** The preview's iframe inside a host page (the first frame on `origin`). */
export function frameOn(page: Page, origin: string): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(origin));
  if (!frame) throw new Error(`no frame on ${origin}`);
  return frame;
}

/** Status of a same-origin JSON fetch made by the page itself. */
export function fetchStatus(target: Frame | Page, path = '/api/echo'): Promise<number> {
  return target.evaluate(async (p) => (await fetch(p, { headers: { accept: 'application/json' } })).status, path);
}

/*
 * Page-side probes: self-contained functions evaluated in the page (`target.evaluate(fn)`),
 * so Playwright (Chromium) and puppeteer (Firefox) tests share them.
 */

/** The access token the worker keeps in IndexedDB (idb-keyval's default store), or null. */
export function readWorkerToken(): Promise<string | null> {
  return new Promise<string | null>((resolve) => {
    const open = indexedDB.open('keyval-store');
    open.onerror = () => resolve(null);
    open.onupgradeneeded = () => open.result.createObjectStore('keyval');
    open.onsuccess = () => {
      const tx = open.result.transaction('keyval', 'readonly');
      const get = tx.objectStore('keyval').get('preview-gate:tokens');
      get.onsuccess = () => resolve((get.result as { accessToken?: string } | undefined)?.accessToken ?? null);
      get.onerror = () => resolve(null);
    };
  });
}

/** Whether a Service Worker controls the page. */
export function controlled(): boolean {
  return Boolean(navigator.serviceWorker?.controller);
}

/** The `cookieless` mark the bootstrap put on the worker's grant (IndexedDB), or null without a grant. */
export function grantCookieless(): Promise<boolean | null> {
  return new Promise<boolean | null>((resolve) => {
    const open = indexedDB.open('keyval-store');
    open.onerror = () => resolve(null);
    open.onupgradeneeded = () => open.result.createObjectStore('keyval');
    open.onsuccess = () => {
      const get = open.result.transaction('keyval', 'readonly').objectStore('keyval').get('preview-gate:tokens');
      get.onsuccess = () => resolve(get.result ? (get.result as { cookieless?: boolean }).cookieless === true : null);
      get.onerror = () => resolve(null);
    };
  });
}

/** Ten concurrent same-origin requests (GET and POST with a body, custom header); their statuses. */
export async function fetchBurst(): Promise<number[]> {
  const rs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      fetch(`/api/echo?i=${i}`, {
        method: i % 2 ? 'POST' : 'GET',
        headers: { accept: 'application/json', 'x-inspector-custom': '1' },
        body: i % 2 ? `body-${i}` : undefined,
      }),
    ),
  );
  await Promise.all(rs.map((r) => r.text()));
  return rs.map((r) => r.status);
}
