/**
 * Fault switches for tests and the soak, kept outside the emulator's own files:
 *
 *  - `startFaultyApi(apiUrl)`: a front for the emulator's Daytona API (give its `apiUrl` to the
 *    gateway's SDK port) that can be `down` (every connection reset), `slow` (requests held, no
 *    answer, until healed), `error500` (Daytona's JSON 500), or `ok` (piped through). The preview
 *    proxy is untouched, so previews with a cached Daytona link keep working meanwhile. The
 *    emulator's own `setApiFault` covers refuse/status on the API; this adds `slow`.
 *  - `startMisbehavingApp()`: a sandbox app (bind it with `emulator.bindPort(id, port, {target})`)
 *    whose connections break at chosen points: mid-response, mid-upload, mid-WebSocket, and a
 *    slow endless download that records whether its client went away.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export type ApiFaultMode = 'ok' | 'down' | 'slow' | 'error500';

export interface FaultyApi {
  /** `http://127.0.0.1:{port}/api`: pass as the SDK's apiUrl. */
  apiUrl: string;
  set(mode: ApiFaultMode): void;
  /** Requests that reached the front (any mode). */
  stats: { requests: number };
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return sockets;
}

export async function startFaultyApi(targetApiUrl: string): Promise<FaultyApi> {
  const target = new URL(targetApiUrl);
  let mode: ApiFaultMode = 'ok';
  const held = new Set<() => void>();
  const stats = { requests: 0 };
  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  };
  const server = createServer((req, res) => {
    stats.requests++;
    if (mode === 'down') return void req.socket.destroy();
    if (mode === 'error500') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' }));
    }
    if (mode === 'slow') {
      // Held until healed (then served) or until the client gives up.
      const release = () => {
        held.delete(release);
        if (!res.destroyed) pass(req, res);
      };
      held.add(release);
      res.on('close', () => held.delete(release));
      return;
    }
    pass(req, res);
  });
  const sockets = trackSockets(server);
  const port = await listen(server);
  return {
    apiUrl: `http://127.0.0.1:${port}${target.pathname}`,
    stats,
    set(m) {
      mode = m;
      if (m !== 'slow') for (const release of [...held]) release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export interface MisbehavingApp {
  /** `http://127.0.0.1:{port}`: bind a sandbox port to it. */
  url: string;
  /** Endless-download requests whose client went away before the end (the abort reached the app). */
  stats: { downloadsAborted: number; downloadsStarted: number; uploadsCut: number; wsCut: number };
  close(): Promise<void>;
}

/**
 * Paths: `/ok` (200 "ok"), `/reset-mid-response` (headers and 64 KiB, then the socket is
 * destroyed), `/reset-mid-upload` (reads 64 KiB of the body, then destroys the socket),
 * `/endless` (64 KiB every 20 ms until the client goes away); upgrades: a WebSocket that sends
 * "hello" and then has its socket destroyed.
 */
export async function startMisbehavingApp(): Promise<MisbehavingApp> {
  const stats = { downloadsAborted: 0, downloadsStarted: 0, uploadsCut: 0, wsCut: 0 };
  const chunk = Buffer.alloc(64 * 1024, 120);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/reset-mid-response') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(10 * chunk.length) });
      res.write(chunk, () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (path === '/reset-mid-upload') {
      let seen = 0;
      req.on('data', (d: Buffer) => {
        seen += d.length;
        if (seen >= chunk.length && !req.socket.destroyed) {
          stats.uploadsCut++;
          req.socket.destroy();
        }
      });
      return;
    }
    if (path === '/endless') {
      req.resume();
      stats.downloadsStarted++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(chunk), 20);
      res.on('close', () => {
        clearInterval(timer);
        stats.downloadsAborted++;
      });
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send('hello', () => {
        stats.wsCut++;
        setTimeout(() => socket.destroy(), 20);
      });
    });
  });
  const sockets = trackSockets(server);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
