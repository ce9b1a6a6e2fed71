/**
 * After Daytona's 101: the sanitized 101 goes to the client, then raw bytes flow both ways. No
 * frame parsing, so extensions such as permessage-deflate and subprotocols are negotiated end
 * to end. The 101 loses any header carrying Daytona's token, Daytona's cookies and any
 * `Set-Cookie` for a gateway cookie name (see answer.ts `isGateSetCookie`).
 */
import type { Duplex } from 'node:stream';
import { PREVIEW_TOKEN_HEADER } from '../../../protocol/index.js';
import { isDaytonaCookie } from '../../core/upstream/sanitize-response.js';
import { isGateSetCookie } from './answer.js';
import type { UpstreamAnswer } from './open-upstream.js';
import type { WebSocketTarget } from './relay-options.js';
import { pipeFrames, type GoingAway } from '../ws-going-away.js';

/**
 * Writes Daytona's 101 (sanitized) to the client and pipes raw bytes both ways. `onSpliced`
 * gets the handle that closes the connection with 1001 (graceful shutdown, ws-going-away.ts).
 */
export function splice(
  client: Duplex,
  clientHead: Buffer,
  answer: Extract<UpstreamAnswer, { kind: 'upgraded' }>,
  target: WebSocketTarget,
  onSpliced?: (link: GoingAway) => void,
): void {
  const upstream = answer.socket;
  const token = target.headers[PREVIEW_TOKEN_HEADER] ?? '';
  const lines = [`HTTP/1.1 101 ${answer.res.statusMessage || 'Switching Protocols'}`];
  const raw = answer.res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (token !== '' && value.includes(token)) continue;
    if (name.toLowerCase() === 'set-cookie' && (isDaytonaCookie(value) || isGateSetCookie(value))) continue;
    lines.push(`${name}: ${value}`);
  }
  client.write(lines.join('\r\n') + '\r\n\r\n');
  // Bytes the client sent right after its upgrade request (already read by the server).
  if (clientHead.length > 0) upstream.write(clientHead);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', closeBoth);
  client.on('error', closeBoth);
  // A close on one side ends the other: half-close first (lets a final close frame drain),
  // then destroy so no socket lingers.
  upstream.on('close', () => {
    client.end();
    setTimeout(() => client.destroy(), 1_000).unref();
  });
  client.on('close', () => upstream.destroy());
  setNoDelay(client);
  setNoDelay(upstream);
  // upstream → client through the frame-boundary tracker (it also writes answer.head first).
  const link = pipeFrames(upstream, client, answer.head);
  client.pipe(upstream);
  onSpliced?.(link);
}

function setNoDelay(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
  s.setNoDelay?.(true);
  s.setTimeout?.(0);
}
