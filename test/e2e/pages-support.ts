/**
 * Shared by the pages tests of the three engines (test/e2e/pages-*.test.ts): where screenshots
 * go (test-results/screenshots/, gitignored), another site that embeds a preview with one
 * script tag, and the visible text the tests assert on (not only pixels).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

/** Writes a PNG as `{engine}-{name}.png` and returns its path. */
export function saveScreenshot(engine: string, name: string, png: Uint8Array): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${engine}-${name}.png`);
  writeFileSync(path, png);
  return path;
}

/** A site of its own (another origin than the gateway and the previews) serving pages set by the test. */
export function startSite(): Promise<{ server: Server; origin: string; setPage(path: string, html: string): void; close(): Promise<void> }> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const html = pages.get((req.url ?? '/').split('?')[0]!);
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({
        server,
        origin,
        setPage: (path, html) => void pages.set(path, html),
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    }),
  );
}

/**
 * A host page with a `<preview-frame>` in a container WITHOUT a height (the default height must
 * hold), an End session button, and every embed event in `window.events` as `type:code`.
 */
export function embedPage(o: { gatewayUrl: string; sandboxId: string; port: number; userId?: string }): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Host app</title>
<style>body{margin:0;font:14px system-ui} header{padding:8px 12px;border-bottom:1px solid #ddd;display:flex;gap:8px;align-items:center}</style>
<script src="${o.gatewayUrl}/embed.js"></script></head><body>
<header><strong>Host app</strong><button id="end" type="button">End session</button></header>
<div id="container"><preview-frame id="preview" sandbox="${o.sandboxId}" port="${o.port}" path="/"></preview-frame></div>
<script>
  window.events = [];
  const el = document.getElementById('preview');
  for (const type of ['ready', 'waiting', 'expired', 'error']) el.addEventListener(type, (e) => events.push(type + ':' + e.detail.code));
  PreviewGate.configure({ getSession: async () => (await (await fetch('${o.gatewayUrl}/api/demo/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: '${o.userId ?? 'pages-user'}' }) })).json()).token });
  document.getElementById('end').addEventListener('click', () => el.handle.revoke());
</script></body></html>`;
}

/** Visible text with whitespace folded, for assertions. */
export const folded = (text: string): string => text.replace(/\s+/g, ' ').trim();

export type Site = Awaited<ReturnType<typeof startSite>>;

/**
 * The pages tests' rig for one engine: the site (its `/app` page, and `/embed` embedding the
 * preview unless `embed: false`), the browser stack told that site is the host app ("Acme IDE"),
 * and the browser `launch` starts, the last two started together.
 */
export async function startPagesRig<B>(launch: () => Promise<B>, o: { embed?: boolean } = {}): Promise<{ site: Site; stack: BrowserStack; browser: B }> {
  const site = await startSite();
  try {
    const [stack, browser] = await Promise.all([
      startBrowserStack({ extraOrigins: [site.origin], gateway: { appUrl: `${site.origin}/app`, productName: 'Acme IDE' } }),
      launch(),
    ]);
    site.setPage('/app', '<!doctype html><title>Acme IDE</title><h1>Acme IDE home</h1>');
    if (o.embed ?? true) site.setPage('/embed', embedPage({ gatewayUrl: stack.gatewayUrl, sandboxId: stack.sandboxId, port: APP_PORT }));
    return { site, stack, browser };
  } catch (err) {
    await site.close();
    throw err;
  }
}
