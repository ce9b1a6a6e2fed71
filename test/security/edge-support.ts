/**
 * For security tests whose app must switch protocols or stream (use attack-support.ts when the
 * question is only what reached the app). Shared bits of the edge tests (upgrades, framing, timeouts): a sandbox app that speaks raw
 * HTTP and records every request and upgrade that reached it, including any bytes sent after
 * a protocol switch (an h2c tunnel), and a share link helper.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startStack, type Stack, type StackOptions } from '../support/stack.js';

export interface TunnelApp {
  url: string;
  /** Request lines (method + target) of plain requests that reached the app. */
  requests: string[];
  /** `Upgrade` values and targets of handshakes that reached the app. */
  upgrades: { upgrade: string; url: string }[];
  /** Bytes received after the app switched protocols (what travelled inside a tunnel). */
  tunnelled(): string;
  clear(): void;
  close(): Promise<void>;
}

/**
 * An app that accepts every protocol switch: `Upgrade: h2c` gets a 101 and whatever follows is
 * recorded (as an h2c server would read it); `Upgrade: websocket` gets a proper 101 and each
 * text frame's raw bytes are recorded. Plain requests answer 200 with their own request line,
 * or, on `/slow-download?chunks=N&ms=M`, N chunks M ms apart.
 */
export async function startTunnelApp(): Promise<TunnelApp> {
  const requests: string[] = [];
  const upgrades: { upgrade: string; url: string }[] = [];
  const tunnel: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const u = new URL(req.url ?? '/', 'http://app.invalid');
    if (u.pathname === '/slow-download') {
      const chunks = Number(u.searchParams.get('chunks') ?? 5);
      const ms = Number(u.searchParams.get('ms') ?? 500);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const tick = setInterval(() => {
        res.write(`chunk ${sent}\n`);
        if (++sent >= chunks) {
          clearInterval(tick);
          res.end();
        }
      }, ms);
      res.on('close', () => clearInterval(tick));
      return;
    }
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url} ${Buffer.concat(body).length}`);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const upgrade = String(req.headers.upgrade ?? '');
    upgrades.push({ upgrade, url: req.url ?? '' });
    if (upgrade.toLowerCase() === 'websocket') {
      const accept = createHash('sha1')
        .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    } else {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`);
    }
    if (head.length) tunnel.push(head);
    socket.on('data', (c: Buffer) => tunnel.push(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    upgrades,
    tunnelled: () => Buffer.concat(tunnel).toString('latin1'),
    clear: () => {
      requests.splice(0);
      upgrades.splice(0);
      tunnel.splice(0);
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Creates a share link (optionally scoped to `path`) as `userId`; returns its token. */
export async function shareToken(stack: Stack, userId: string, sandboxId: string, port: number, path?: string): Promise<string> {
  const res = await stack.requestGateway('/api/shares', {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.mintUserSession(userId)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId, port, ttlSeconds: 600, ...(path ? { path } : {}) }),
  });
  if (res.status !== 201) throw new Error(`share: ${res.status} ${res.text}`);
  return new URL(res.json<{ url: string }>().url).searchParams.get('__gate_share')!;
}

/** The JSON error code of a raw answer's body ('' when there is none). */
export function codeOf(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '';
  } catch {
    return '';
  }
}

/** The stack and a tunnel app serving sandbox port 3000 (a sandbox every signed-in user may preview). */
export async function startEdgeRig(opts: StackOptions = {}): Promise<{ stack: Stack; app: TunnelApp; sbx: string }> {
  const stack = await startStack(opts);
  const app = await startTunnelApp();
  const sbx = (await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports: { 3000: { target: app.url } } })).id;
  return { stack, app, sbx };
}
