/**
 * The demo host page: an IDE-like page on a DIFFERENT site than the previews (it listens on
 * 127.0.0.1, previews live on *.preview.localhost), so its preview frames are cross-site
 * iframes, the hard case. It serves index.html with its configuration and its scripts;
 * everything else happens in the browser against the gateway's API (CORS) and embed.js.
 *
 * Besides `/`: `/launch?port=N` mints a fresh launch link in the browser and opens it (what the
 * demo prints as FRESH_LAUNCH_URL, never stale), and, when given `controls`, the sample
 * sandbox's controls (demo/controls.ts) as `GET /demo/status` and same-origin
 * `POST /demo/{sandbox/stop,sandbox/start,dev-server/start,dev-server/stop}`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoControls } from '../controls.js';

export interface HostPageOptions {
  /** Port to listen on; 0 picks one. */
  port: number;
  /** Interface. Default 127.0.0.1 (a different site than `localhost` and `*.preview.localhost`). */
  host?: string;
  /** The gateway's own origin, e.g. http://localhost:8787 (API, embed.js). */
  gatewayUrl: string;
  /** The sandbox to show, and its app port. */
  sandboxId: string;
  previewPort: number;
  /**
   * The sandbox's apps the page offers as tabs (`?port=N` picks one; default `previewPort`).
   * Default: only `previewPort`, no tabs.
   */
  apps?: Array<{ port: number; label: string /** Every port the app uses (the embed's `ports`). */; ports?: number[] }>;
  /** Demo user id the page asks a session for. Default `demo-user`. */
  userId?: string;
  /** The gateway's share-link TTL bounds in seconds (its shareTtlMin/MaxSeconds). Default 60 .. 30 days. */
  shareTtl?: { min: number; max: number };
  /** The sample sandbox's controls; without them the page shows none. */
  controls?: DemoControls;
}

export interface HostPage {
  url: string;
  /** `http://127.0.0.1:{port}`: give it to the gateway as an allowed origin. */
  origin: string;
  port: number;
  /** Changes what the page shows (e.g. the gateway URL once the gateway listens). */
  update(changes: Partial<Omit<HostPageOptions, 'port' | 'host'>>): void;
  close(): Promise<void>;
}

const here = new URL('.', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, here), 'utf8');
const SCRIPTS = new Set(['/host.js', '/shares.js', '/sandbox.js', '/launch.js']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

export async function startHostPage(initial: HostPageOptions): Promise<HostPage> {
  const opts = { ...initial };
  let origin = '';
  const config = (): string =>
    JSON.stringify({
      gatewayUrl: opts.gatewayUrl.replace(/\/+$/, ''),
      sandboxId: opts.sandboxId,
      port: opts.previewPort,
      apps: opts.apps ?? [],
      userId: opts.userId ?? 'demo-user',
      shareTtl: opts.shareTtl ?? { min: 60, max: 30 * 86400 },
      controls: Boolean(opts.controls),
    }).replace(/</g, '\\u003c');
  const page = (file: string): string => read(file).replaceAll('%GATEWAY_URL%', opts.gatewayUrl.replace(/\/+$/, '')).replace('%CONFIG%', config());

  const controlAction = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const controls = opts.controls;
    if (!controls) return json(res, 404, { error: 'no controls in this demo' });
    if (req.method === 'GET' && path === '/demo/status') return json(res, 200, await controls.status());
    // Only this page may press the buttons: a POST from another site carries its own Origin.
    if (req.method !== 'POST' || req.headers.origin !== origin) return json(res, 403, { error: 'same-origin POST only' });
    const actions: Record<string, () => Promise<void>> = {
      '/demo/sandbox/stop': controls.stopSandbox,
      '/demo/sandbox/start': controls.startSandbox,
      '/demo/dev-server/start': controls.startDevServer,
      '/demo/dev-server/stop': controls.stopDevServer,
    };
    const action = actions[path];
    if (!action) return json(res, 404, { error: 'no such control' });
    await action();
    json(res, 200, await controls.status());
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://host.invalid').pathname;
    if (path.startsWith('/demo/')) {
      controlAction(req, res, path).catch((err: unknown) => json(res, 500, { error: err instanceof Error ? err.message : String(err) }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/' || path === '/index.html' || path === '/launch') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(path === '/launch' ? 'launch.html' : 'index.html'));
      return;
    }
    if (SCRIPTS.has(path)) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(read(path.slice(1)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://${host}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    port,
    update(changes) {
      Object.assign(opts, changes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
