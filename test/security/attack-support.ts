/**
 * For security tests that ask "what reached the app?" (use edge-support.ts instead when the app
 * must switch protocols or stream: upgrades, tunnels, slow bodies). Holds:
 *  - a recording "sandbox app" bound to a sandbox port through the emulator, which remembers the
 *    raw request line and headers of everything that reached it (so a test can say "this never
 *    reached the app", or "the app saw exactly this"), and `startAttackRig` (stack + that app);
 *  - a raw-socket HTTP client for requests Node's http client refuses to send (duplicate Host,
 *    absolute-form targets, malformed lines), and `tryWebSocket`, a WebSocket client that
 *    reports the echo or the refusal.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startStack, type Stack, type StackOptions } from '../support/stack.js';

export interface Seen {
  method: string;
  /** The request target exactly as the app received it. */
  url: string;
  /** Raw header lines, name and value, as received. */
  rawHeaders: [string, string][];
  headers: http.IncomingHttpHeaders;
}

export interface Recorder {
  url: string;
  seen: Seen[];
  /** Everything the app ever received, as one string (for "contains no secret" checks). */
  dump(): string;
  clear(): void;
  close(): Promise<void>;
}

/**
 * Starts the recording app. Special paths:
 *  - `/set-cookie`: answers Set-Cookie lines an app might use to plant the gateway's cookies;
 *  - `/redirect?to=URL`: a 302 to URL;
 *  - `/cacheable`: 200 with `Cache-Control: public, max-age=3600`;
 *  - anything else: 200 JSON `{method, url, headers}`.
 */
export async function startRecorder(): Promise<Recorder> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const raw: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: raw, headers: req.headers });
    req.resume();
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://app.invalid');
      if (u.pathname === '/set-cookie') {
        res.setHeader('set-cookie', [
          '__Host-pg-access=planted; Path=/; Secure; HttpOnly',
          '__host-pg-refresh=l.planted0000000000000000000; Path=/; Secure',
          ' __Host-pg-refresh=l.planted1111111111111111111; Path=/; Secure',
          'app=1; Path=/',
        ]);
        return res.end('ok');
      }
      if (u.pathname === '/cacheable') {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=3600' });
        return res.end('cacheable');
      }
      if (u.pathname === '/redirect') {
        res.writeHead(302, { location: u.searchParams.get('to') ?? '/' });
        return res.end();
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
  });
  // WebSocket handshakes: `/ws-plant-101` accepts with a Set-Cookie for the gateway's cookie
  // names; `/ws-plant-403` refuses with one; anything else is refused plainly.
  server.on('upgrade', (req, socket) => {
    const raw: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: raw, headers: req.headers });
    const plant =
      'Set-Cookie: __Host-pg-access=planted; Path=/; Secure; HttpOnly\r\nSet-Cookie: __Host-pg-refresh=l.planted0000000000000000000; Path=/; Secure; HttpOnly\r\n';
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    if (req.url?.startsWith('/ws-plant-101')) {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${plant}\r\n`);
      setTimeout(() => socket.destroy(), 200);
      return;
    }
    const extra = req.url?.startsWith('/ws-plant-403') ? plant : '';
    socket.end(`HTTP/1.1 403 Forbidden\r\n${extra}Content-Length: 2\r\nConnection: close\r\n\r\nno`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    dump: () => JSON.stringify(seen),
    clear: () => void seen.splice(0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawAnswer {
  /** The whole answer as text ('' when the server closed without a word). */
  text: string;
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `request` (raw bytes, CRLFs included) to 127.0.0.1:port and reads until the server
 * closes or `ms` pass. Send `Connection: close` to get a prompt end.
 */
export function rawSocket(port: number, request: string | Buffer, ms = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const cut = text.indexOf('\r\n\r\n');
      const head = cut < 0 ? text : text.slice(0, cut);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ text, status, head, body: cut < 0 ? '' : text.slice(cut + 4) });
    };
    const timer = setTimeout(done, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', done);
    s.on('error', done);
  });
}

export type WsOutcome = { opened: true; echo: string } | { opened: false; status: number; body: string };

/** Opens ws://127.0.0.1:{port}{path} with the preview Host, sends "ping", waits for the echo or the refusal. */
export function tryWebSocket(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<WsOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host, ...headers } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('websocket: no answer in 5 s'));
    }, 5000);
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve({ opened: true, echo: data.toString() });
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ opened: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * The common rig of the attack tests: the full stack (emulator, real SDK, gateway) and a
 * recording app on port 3000 of a sandbox every signed-in user may preview.
 */
export async function startAttackRig(opts: StackOptions = {}): Promise<{ stack: Stack; app: Recorder; sbx: string }> {
  const stack = await startStack(opts);
  const app = await startRecorder();
  const sbx = (await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports: { 3000: { target: app.url } } })).id;
  return { stack, app, sbx };
}
