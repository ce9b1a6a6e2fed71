/**
 * WebSocket relay: the Node edge hands over an upgrade request it has already authenticated;
 * this opens the upgrade to Daytona's preview proxy with Daytona's token (open-upstream.ts,
 * handshake-headers.ts) and, once Daytona answers 101, splices the two sockets (splice.ts);
 * any other answer is written back sanitized or as a coded error (answer.ts).
 *
 * Daytona refusing the token is retried once with a fresh link (`relayWebSocketWithRetry`):
 * always safe, since no frame can have been sent before the 101.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GateError } from '../../../protocol/index.js';
import { writeGateError } from '../raw-answer.js';
import { isRejection, writeAnswer } from './answer.js';
import { openUpstream } from './open-upstream.js';
import type { RelayOptions, WebSocketTarget } from './relay-options.js';
import { splice } from './splice.js';

/**
 * Relays one authenticated upgrade to the target `getTarget(false)` gives, and asks
 * `getTarget(true)` for a fresh target once when Daytona refuses the token of the first (e.g. the
 * sandbox restarted and its token rotated). Never throws; resolves when the relay is established
 * or has answered the client with an error (then the client socket is closed).
 *
 * @example
 * relayWebSocketWithRetry(req, socket, head,
 *   (fresh) => upstream.webSocketTarget(target, req.url ?? '/', { fresh }), { stripCookies: ['__Host-pg-*'] });
 */
export async function relayWebSocketWithRetry(
  req: IncomingMessage,
  clientSocket: Duplex,
  head: Buffer,
  getTarget: (forceFresh: boolean) => Promise<WebSocketTarget>,
  opts: RelayOptions & { retry?: boolean } = {},
): Promise<void> {
  let closed = false;
  const finish = once(() => opts.onClose?.());
  const clientGone = new AbortController();
  const onClientError = () => clientGone.abort();
  clientSocket.on('error', onClientError); // a reset client must never crash the process
  clientSocket.once('close', () => {
    closed = true;
    clientGone.abort();
    finish();
  });

  try {
    let target = await getTarget(false);
    let answer = await openUpstream(req, target, opts, clientGone.signal);
    if (answer.kind === 'response' && opts.retry !== false && isRejection(answer, target)) {
      target = await getTarget(true);
      answer = await openUpstream(req, target, opts, clientGone.signal);
    }
    if (closed) {
      if (answer.kind === 'upgraded') answer.socket.destroy();
      return;
    }
    if (answer.kind === 'upgraded') splice(clientSocket, head, answer, target, opts.onSpliced);
    else writeAnswer(clientSocket, answer, target, opts);
  } catch (err) {
    if (closed) return;
    const error = err instanceof GateError ? err : new GateError('upstream_unavailable', "Daytona's preview proxy could not be reached.");
    await writeGateError(clientSocket, error);
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
