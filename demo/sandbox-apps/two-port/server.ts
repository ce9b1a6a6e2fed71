/**
 * The "two ports" sample sandbox app: the usual dev setup of a frontend on port 3000 that calls
 * its API on port 8000 (ARCHITECTURE.md flow 16, docs/interface.md "Apps on several ports").
 * Two plain HTTP servers on loopback; the emulator binds sandbox ports 3000 and 8000 to them
 * (`{ target }` bindings, as for the Vite sample), and a launch with `ports: [3000, 8000]`
 * opens both through the gateway.
 *
 * The frontend knows its API the way such apps do: the same host with the port label swapped
 * (`3000-{sandbox}.{domain}` → `8000-{sandbox}.{domain}`). Its page runs these checks and shows
 * each result (and puts them on `window.__twoPort` for the tests):
 *  - `plain`: `fetch(api)`, no credentials (carried by the Service Worker's sibling token only);
 *  - `credentialed`: `fetch(api, {credentials: 'include'})` (the worker's token, or the sibling's cookie);
 *  - `preflighted`: a credentialed JSON POST with a custom header (the browser preflights it);
 *  - `websocket`: `new WebSocket(ws://8000-…/ws)`, one echo.
 * The API does what a real dev API does: its own CORS (its frontend's origin, with credentials),
 * an echo, a WebSocket echo; and it reports whether the gateway's identity assertion arrived
 * and whether any gateway credential leaked to it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export const TWO_PORT_FRONTEND = 3000;
export const TWO_PORT_API = 8000;

/** The sandbox ports the app is bound to (its page finds its API by swapping the port label). */
export interface TwoPortPorts {
  frontend: number;
  api: number;
}

export interface TwoPortApp {
  /** `http://127.0.0.1:{port}` of each server, for the emulator's `{ target }` bindings. */
  frontendUrl: string;
  apiUrl: string;
  close(): Promise<void>;
}

const page = (p: TwoPortPorts) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Two ports</title><script src="/app.js" defer></script></head>
<body><h1>Frontend on port ${p.frontend}, API on port ${p.api}</h1><pre id="results">running…</pre></body></html>`;

/** The frontend's script (runs in the browser). */
const script = (p: TwoPortPorts) => `(() => {
  const api = location.origin.replace(/\\/\\/${p.frontend}-/, '//${p.api}-');
  const wsApi = api.replace(/^http/, 'ws');
  const results = {};
  const json = async (p) => { const r = await p; const body = await r.json().catch(() => null); return { status: r.status, body }; };
  const checks = {
    plain: () => json(fetch(api + '/api/hello')),
    credentialed: () => json(fetch(api + '/api/hello', { credentials: 'include' })),
    preflighted: () => json(fetch(api + '/api/echo', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-app-header': 'two-port' }, body: JSON.stringify({ n: 42 }) })),
    websocket: () => new Promise((resolve) => {
      const ws = new WebSocket(wsApi + '/ws');
      const timer = setTimeout(() => resolve({ status: 0, body: 'timeout' }), 10000);
      ws.onopen = () => ws.send('ping');
      ws.onmessage = (e) => { clearTimeout(timer); ws.close(); resolve({ status: 101, body: String(e.data) }); };
      ws.onerror = () => { clearTimeout(timer); resolve({ status: 0, body: 'error' }); };
    }),
  };
  const run = async () => {
    for (const [name, check] of Object.entries(checks)) {
      try { results[name] = await check(); } catch (e) { results[name] = { status: 0, body: String(e) }; }
    }
    window.__twoPort = results;
    document.getElementById('results').textContent = JSON.stringify(results, null, 2);
    document.body.dataset.done = 'true';
  };
  window.__twoPortRun = run;
  run();
})();`;

/** Anything of the gateway's that must never reach the app. */
function leaked(req: http.IncomingMessage): string[] {
  const found: string[] = [];
  if (req.headers['x-daytona-preview-token']) found.push('x-daytona-preview-token');
  if (/__Host-pg-/.test(req.headers.cookie ?? '')) found.push('cookie');
  if (/__gate_/.test(req.url ?? '')) found.push('query');
  return found;
}

/** The API's own CORS: its frontend (the frontend's port of any preview domain), credentials allowed. */
function cors(req: http.IncomingMessage, res: http.ServerResponse, frontendPort: number): void {
  const origin = req.headers.origin;
  if (origin && new RegExp(`^https?://${frontendPort}-`).test(origin)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
  }
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** Starts both servers; `ports` are the SANDBOX ports they will be bound to (default 3000 + 8000). */
export async function startTwoPortApp(ports: TwoPortPorts = { frontend: TWO_PORT_FRONTEND, api: TWO_PORT_API }): Promise<TwoPortApp> {
  const PAGE = page(ports);
  const SCRIPT = script(ports);
  const frontend = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(SCRIPT);
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  const api = http.createServer((req, res) => {
    cors(req, res, ports.frontend);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Preflights never get here behind Daytona (its proxy answers them); the app still answers
    // its own, as it would run without the gateway.
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'GET, POST');
      res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] ?? '');
      return void res.writeHead(204).end();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = {
        port: ports.api,
        path,
        identity: typeof req.headers['x-preview-gate-identity'] === 'string',
        leaked: leaked(req),
        ...(path === '/api/echo' ? { echo: Buffer.concat(chunks).toString('utf8'), appHeader: req.headers['x-app-header'] ?? null } : {}),
      };
      if (path !== '/api/hello' && path !== '/api/echo') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    });
  });
  const wss = new WebSocketServer({ server: api, path: '/ws' });
  wss.on('connection', (socket, req) => {
    const bad = leaked(req);
    socket.on('message', (data) => socket.send(bad.length ? `leaked:${bad.join(',')}` : data.toString()));
  });
  const [frontendUrl, apiUrl] = await Promise.all([listen(frontend), listen(api)]);
  return {
    frontendUrl,
    apiUrl,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      frontend.closeAllConnections();
      api.closeAllConnections();
      await Promise.all([new Promise((r) => frontend.close(r)), new Promise((r) => api.close(r))]);
    },
  };
}
