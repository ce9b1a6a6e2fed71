/**
 * The demo host page: an IDE-like page on a DIFFERENT site than the previews (it listens on
 * 127.0.0.1, previews live on *.preview.localhost), so its preview frames are cross-site
 * iframes, the hard case. It serves index.html with its configuration and host.js; everything
 * else happens in the browser against the gateway's API (CORS) and embed.js.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  apps?: Array<{ port: number; label: string }>;
  /** Demo user id the page asks a session for. Default `demo-user`. */
  userId?: string;
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

export async function startHostPage(initial: HostPageOptions): Promise<HostPage> {
  const opts = { ...initial };
  const config = (): string =>
    JSON.stringify({
      gatewayUrl: opts.gatewayUrl.replace(/\/+$/, ''),
      sandboxId: opts.sandboxId,
      port: opts.previewPort,
      apps: opts.apps ?? [],
      userId: opts.userId ?? 'demo-user',
    }).replace(/</g, '\\u003c');
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://host.invalid').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      const html = read('index.html').replaceAll('%GATEWAY_URL%', opts.gatewayUrl.replace(/\/+$/, '')).replace('%CONFIG%', config());
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    if (path === '/host.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(read('host.js'));
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
  return {
    url: `http://${host}:${port}/`,
    origin: `http://${host}:${port}`,
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
