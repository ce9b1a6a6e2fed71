/**
 * The INSPECTOR sample app: what runs on a sandbox port. A real HTTP server on an ephemeral
 * 127.0.0.1 port (the proxy reaches it with real sockets). Routes:
 *   GET /                      HTML page running the browser checks (see page.ts, assets.ts)
 *   GET /app.js /style.css /image.png
 *   ANY /api/echo              JSON of what arrived: {method,path,query,headers,cookies,bodySize,bodySha256}
 *   POST /upload               consumes any body streaming → {bytes, sha256}
 *   GET /download?bytes=N      N pattern bytes (pattern.ts), generated on the fly with backpressure
 *   GET /slow?ms=N             answers after N ms
 *   GET /status/{code}         that status (301/302/303/307/308 with Location: /; 204/304 without body)
 *   GET /fail                  destroys the socket mid-response
 *   GET /events                SSE, one event every 100 ms
 *   WS  /ws                    echo
 *   WS  /ws/report             first message: the handshake as /api/echo reports it; then echo
 *   any other path             echo JSON when Accept asks for JSON, else 404 text
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { APP_JS, IMAGE_PNG, STYLE_CSS } from './assets.js';
import { describeRequest, digestBody, echo } from './echo.js';
import { renderPage } from './page.js';
import { CHUNK_SIZE, patternChunk } from './pattern.js';

export interface InspectorServer {
  port: number;
  close(): Promise<void>;
}

const MAX_DOWNLOAD = 16 * 1024 * 1024 * 1024;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** Writes `total` pattern bytes, waiting for 'drain' whenever the socket's buffer is full. */
function streamPattern(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, 'cache-control': 'no-store' });
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(CHUNK_SIZE, total - sent);
      const chunk = patternChunk(sent, n);
      sent += n;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    sent = total; // client went away: stop generating
  });
  pump();
}

function intParam(url: URL, name: string, fallback: number): number {
  const n = Number(url.searchParams.get(name) ?? fallback);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://inspector.invalid');
  const path = url.pathname;
  if (path === '/api/echo') return json(res, 200, await echo(req));
  if (req.method === 'POST' && path === '/upload') {
    const { bytes, sha256 } = await digestBody(req);
    return json(res, 200, { bytes, sha256 });
  }
  if (path === '/download') return streamPattern(res, Math.min(intParam(url, 'bytes', 1024), MAX_DOWNLOAD));
  if (path === '/slow') {
    const timer = setTimeout(() => json(res, 200, { waitedMs: intParam(url, 'ms', 1000) }), intParam(url, 'ms', 1000));
    res.on('close', () => clearTimeout(timer));
    return;
  }
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) {
    const code = Number(status[1]);
    if (code === 204 || code === 304) {
      res.writeHead(code);
      return void res.end();
    }
    if ([301, 302, 303, 307, 308].includes(code)) res.setHeader('location', '/');
    return json(res, code, { status: code });
  }
  if (path === '/fail') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1_000_000 });
    res.write('partial answer, then the connection dies');
    setTimeout(() => req.socket.destroy(), 20);
    return;
  }
  if (path === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    let n = 0;
    res.write(': inspector events\n\n');
    const tick = setInterval(() => res.write(`id: ${++n}\ndata: tick ${n}\n\n`), 100);
    res.on('close', () => clearInterval(tick));
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (path === '/') return send(res, 200, 'text/html; charset=utf-8', renderPage(describeRequest(req)));
    if (path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', APP_JS);
    if (path === '/style.css') return send(res, 200, 'text/css; charset=utf-8', STYLE_CSS);
    if (path === '/image.png') return send(res, 200, 'image/png', IMAGE_PNG);
  }
  if ((req.headers.accept ?? '').includes('application/json')) return json(res, 200, await echo(req));
  req.resume();
  send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
}

/** Starts one inspector on 127.0.0.1, an ephemeral port. */
export async function startInspector(): Promise<InspectorServer> {
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('upgrade', (req, socket, head) => {
    // A reset or a malformed frame (one announcing a 2^63-byte payload) is an 'error' event:
    // without a listener it would be thrown and take the whole process down.
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/ws' && path !== '/ws/report') return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      // /ws/report first sends what the handshake carried (same shape as /api/echo), then echoes.
      if (path === '/ws/report') ws.send(JSON.stringify(describeRequest(req)));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
