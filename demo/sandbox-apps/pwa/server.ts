/**
 * The "PWA" sample sandbox app: a small site that registers its own Service Worker at scope `/`
 * (`sw.js`: precaches its shell, serves `offline.html` when the app cannot be reached), the case
 * of ARCHITECTURE.md flow 15. A plain node:http server on loopback; bind a sandbox port to it
 * (`emulator.bindPort(id, port, { target: app.url })`), as `npm run demo` and
 * test/e2e/app-worker*.test.ts do.
 *
 * `/?module` makes the page register its worker with `type: 'module'` (`/sw.js?module`, served
 * as an ES module): the gateway's module wrapper (a static import) in a browser.
 *
 * What the tests steer: `setVersion` changes the worker script's bytes (the browser's update
 * check installs the new version), `setDown(true)` makes the app unreachable (every connection
 * is cut: the gateway answers 502, and the app's worker shows its offline page). `requests`
 * lists what reached the app, with whether the gateway's identity assertion came along (the
 * request was authenticated) and the worker-script marker the browser sends.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/offline.html': { file: 'offline.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/logo.svg': { file: 'logo.svg', type: 'image/svg+xml' },
  '/sw.js': { file: 'sw.js', type: 'text/javascript; charset=utf-8' },
};

export interface PwaRequest {
  method: string;
  path: string;
  /** The gateway's identity assertion arrived: the gateway authenticated the request. */
  identity: boolean;
  /** `Service-Worker: script`: the browser fetching the worker script (install or update check). */
  serviceWorker: boolean;
  /** Any gateway credential that should never reach the app (its header token or cookies). */
  gateCredential: boolean;
  acceptEncoding: string | null;
}

export interface PwaApp {
  port: number;
  /** `http://127.0.0.1:{port}`. */
  url: string;
  readonly version: string;
  /** A new worker version: the script's bytes change, so the browser's update check installs it. */
  setVersion(version: string): void;
  /** Unreachable (true): every connection is cut without an answer. */
  setDown(down: boolean): void;
  requests: PwaRequest[];
  close(): Promise<void>;
}

const here = new URL('.', import.meta.url);

export async function startPwaApp(opts: { port?: number; version?: string } = {}): Promise<PwaApp> {
  let version = opts.version ?? 'v1';
  let down = false;
  const requests: PwaRequest[] = [];
  const read = (file: string) => readFileSync(new URL(file, here));

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const cookie = req.headers.cookie ?? '';
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      identity: typeof req.headers['x-preview-gate-identity'] === 'string',
      serviceWorker: req.headers['service-worker'] === 'script',
      gateCredential: 'x-daytona-preview-token' in req.headers || /(^|;\s*)__Host-pg-/.test(cookie),
      acceptEncoding: req.headers['accept-encoding'] ?? null,
    });
    if (down) return void req.socket.destroy();
    if (url.pathname === '/api/whoami') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ identity: typeof req.headers['x-preview-gate-identity'] === 'string', method: req.method }));
    }
    if (url.pathname === '/api/slow') {
      // A long request (a long poll, a slow report, a download): headers after `headers` ms,
      // then the body over `body` ms. The app's worker leaves /api/ to the network.
      const headersAfter = Number(url.searchParams.get('headers') ?? '0');
      const bodyFor = Number(url.searchParams.get('body') ?? '0');
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.write('{"slow":');
        const end = setTimeout(() => res.end('true}'), bodyFor);
        res.once('close', () => clearTimeout(end));
      }, headersAfter);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    if (url.pathname === '/sw-version') {
      // Only reached without the app's worker (the worker answers it itself).
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ version: 'none' }));
    }
    const entry = FILES[url.pathname];
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('not found');
    }
    let body = read(entry.file);
    if (entry.file === 'sw.js') {
      let source = body.toString('utf8').replace('__VERSION__', version);
      // `/sw.js?module` (app.js registers it with `type: 'module'` on `/?module`): the same worker
      // as an ES module. The `export` makes it one, so the gateway wraps it with a static
      // `import '/__gate/sw.js'` instead of `importScripts` (broker/core/app-worker.ts#looksLikeModule).
      if (url.searchParams.has('module')) source += '\nexport {};\n';
      body = Buffer.from(source);
    }
    res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache', 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Keep idle connections longer than Node's default 5 s: the proxy in front (the emulator, as
  // Daytona's) keeps its connections to the app alive and retries only a GET/HEAD that a closing
  // connection lost (demo/emulator/forward.ts). With 5 s, a POST sent on a connection at the
  // moment the app closes it came back as a bare 502 (`app_not_listening`): seen under load as
  // `POST /api/whoami` failures in test/e2e/app-worker.test.ts.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000; // above keepAliveTimeout (nodejs/node#27363)
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get version() {
      return version;
    },
    setVersion(v) {
      version = v;
    },
    setDown(d) {
      down = d;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
