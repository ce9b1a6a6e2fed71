/**
 * The bench's sandbox app, bound to port 3000 of the bench sandboxes (bench/upstream.ts), in a
 * process of its own so the emulator's process spends only its proxy's two sockets per
 * connection (the idle-WebSocket scenario needs ~20,000 of them under `ulimit -n` 20000).
 * Plain JS: it starts fast and needs no loader.
 *   GET  /api/echo          a ~0.5 KB JSON answer (the small-request scenario)
 *   GET  /api/headers       the request headers that arrived, as JSON (the bench reads the size of
 *                           the gateway's identity assertion from it, bench/systems.ts)
 *   GET  /download?bytes=N  N bytes, streamed with backpressure
 *   POST /upload            consumes the body → {"bytes": N}
 *   GET  /page              HTML with 100 module scripts /m/0.js … /m/99.js (the browser page load)
 *   GET  /m/N.js            a tiny module
 *   GET  /passthrough-sw.js a Service Worker that answers every fetch with fetch(request): the
 *                           browser scenario's reference for what any worker costs Chromium
 *   WS   /ws                echo (round trips) and idle connections alike; SIGUSR2 ends them all
 * Every answer is `Cache-Control: no-store`, so each page load fetches all 100 subresources.
 * Prints APP_PORT=… once listening.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';

const ECHO = JSON.stringify({ ok: true, pad: 'x'.repeat(460) });
const CHUNK = Buffer.alloc(64 * 1024, 'a');
const SUBRESOURCES = 100;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>bench page</title></head><body><p>bench</p>${Array.from(
  { length: SUBRESOURCES },
  (_, i) => `<script type="module" src="/m/${i}.js"></script>`,
).join('')}</body></html>`;

// Takes over at once and answers each request by fetching it unchanged: nothing of the gateway's
// worker (no routes, no token), only Chromium's own cost of sending requests through a worker.
const PASSTHROUGH_SW = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => e.respondWith(fetch(e.request)));
`;

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  const path = url.pathname;
  if (path === '/api/echo') return send(res, 200, 'application/json', ECHO);
  if (path === '/api/headers') return send(res, 200, 'application/json', JSON.stringify(req.headers));
  if (path === '/page' || path === '/') return send(res, 200, 'text/html; charset=utf-8', PAGE);
  if (path === '/passthrough-sw.js') return send(res, 200, 'text/javascript', PASSTHROUGH_SW);
  if (path.startsWith('/m/')) return send(res, 200, 'text/javascript', `export const n = ${JSON.stringify(path)};\n`);
  if (path === '/download') {
    const total = Number(url.searchParams.get('bytes') ?? 1024);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, 'cache-control': 'no-store' });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(CHUNK.length, total - sent);
        sent += n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (sent = total));
    return pump();
  }
  if (path === '/upload' && req.method === 'POST') {
    let bytes = 0;
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => send(res, 200, 'application/json', JSON.stringify({ bytes })));
    return;
  }
  send(res, 404, 'text/plain', 'not found');
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`APP_PORT=${server.address().port}`));
// SIGUSR2 ends every WebSocket from this side: the servers then close first along the chain
// (app → emulator → proxy → client), so the TIME_WAIT sockets sit on the listening ports, not on
// ephemeral ports the shared machine's other work needs (bench/scenarios/idle-ws.ts).
process.on('SIGUSR2', () => {
  for (const ws of wss.clients) ws.terminate();
});
process.on('SIGTERM', () => process.exit(0));
