/**
 * HTTP answers written as raw bytes on a socket the edge owns before (or instead of) any HTTP
 * response object: a refused or failed WebSocket upgrade. The answer itself always comes from
 * the core's one error model (`errorResponse`, broker/core/http/respond.ts); this file only
 * serializes it, so a socket answer is the same JSON (and headers) as an HTTP one.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GateError } from '../../protocol/index.js';
import { errorResponse } from '../core/http/respond.js';

/** What a raw socket answer is rendered for: no browser page, the JSON body (protocol/errors.ts). */
const SOCKET_REQUEST_HEADERS = { accept: 'application/json' };

/**
 * A Response as HTTP/1.1 bytes with `connection: close`. `Set-Cookie` is dropped: nothing on a
 * raw socket answer may set (or rotate) the gateway's cookies.
 */
export async function rawResponseBytes(res: Response): Promise<Buffer> {
  const body = Buffer.from(await res.arrayBuffer());
  const lines = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`];
  res.headers.forEach((v, k) => {
    if (k !== 'set-cookie' && k !== 'content-length' && k !== 'connection') lines.push(`${k}: ${v}`);
  });
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

/** Writes `res` on the raw socket and closes it; never rejects (a failure just destroys the socket). */
export async function writeRawResponse(socket: Duplex, res: Response): Promise<void> {
  try {
    const bytes = await rawResponseBytes(res);
    if (!socket.destroyed) socket.end(bytes);
  } catch {
    socket.destroy();
  }
}

/** The coded answer of `error` (respond.ts, as JSON) written on the raw socket, which is then closed. */
export function writeGateError(socket: Duplex, error: GateError): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  const res = errorResponse(error, new Request('http://gateway.invalid/', { headers: SOCKET_REQUEST_HEADERS }));
  return writeRawResponse(socket, res);
}
