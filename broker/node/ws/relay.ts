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
import { isRejection, writeAnswer, writeError } from './answer.js';
import { openUpstream } from './open-upstream.js';
import type { RelayOptions, WebSocketTarget } from './relay-options.js';
import { splice } from './splice.js';

/**
 * Relays one authenticated upgrade to `target`. Never throws; failures close the client socket.
 *
 * @example
 * server.on('upgrade', async (req, socket, head) =>
 *   relayWebSocket(req, socket, head, await upstream.webSocketTarget(t, req.url ?? '/'), { stripCookies: ['__Host-pg-*'] }));
 */
export function relayWebSocket(
  req: IncomingMessage,
  clientSocket: Duplex,
  head: Buffer,
  target: WebSocketTarget,
  opts: RelayOptions = {},
): void {
  void relayWebSocketWithRetry(req, clientSocket, head, async () => target, { ...opts, retry: false });
}

/**
 * Like relayWebSocket, but asks `getTarget(true)` for a fresh target once when Daytona refuses
 * the token of the first (e.g. the sandbox restarted and its token rotated). Resolves when the
 * relay is established or has answered the client with an error.
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
    else writeAnswer(clientSocket, answer, target, req, opts);
  } catch (err) {
    if (closed) return;
    const error =
      err instanceof GateError ? err : new GateError('upstream_unavailable', "Daytona's preview proxy could not be reached.");
    writeError(clientSocket, error);
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
