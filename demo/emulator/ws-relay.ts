/**
 * WebSocket pass-through (docs/daytona.md, "Authentication": "WebSockets pass through"): after the same decision as
 * for HTTP (minus preflight and warning page), the upgrade request is re-issued to the sandbox
 * port over a raw socket and the two sockets are piped together, so any subprotocol works
 * (Vite HMR included). An answer the proxy makes itself (307, 403, 400, 502) is written as a
 * plain HTTP response on the client socket, which is then closed.
 */
import { connect, type Socket } from 'node:net';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { reasonPhrase } from './errors.js';
import type { Verdict } from './decide.js';

type Forward = Extract<Verdict, { kind: 'forward' }>;

function headerLines(headers: OutgoingHttpHeaders | Record<string, string>): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of [value].flat()) out += `${name}: ${String(v)}\r\n`;
  }
  return out;
}

/** Writes a complete HTTP/1.1 answer on a raw socket and closes it. */
export function writeRawResponse(socket: Duplex, status: number, headers: Record<string, string>, body: string): void {
  const head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n${headerLines({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' })}\r\n`;
  socket.end(head + body);
}

export function relayUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: Forward, onBadGateway: () => void): void {
  const upstream: Socket = connect(target.upstream.port, target.upstream.host);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    upstream.write(`${req.method ?? 'GET'} ${target.path} HTTP/1.1\r\n${headerLines(target.headers)}\r\n`);
    if (head.length) upstream.write(head);
    // The upstream's 101 (or refusal) goes back verbatim; from then on both directions are raw.
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => {
    if (!connected) {
      onBadGateway();
      writeRawResponse(client, 502, {}, '');
    } else client.destroy();
  });
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}
