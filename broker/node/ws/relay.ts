/**
 * WebSocket relay: the Node edge hands over an upgrade request it has already authenticated;
 * this opens the upgrade to Daytona's preview proxy with Daytona's token (open-upstream.ts,
 * handshake-headers.ts) and, once Daytona answers 101, splices the two sockets (splice.ts);
 * any other answer is written back sanitized or as a coded error (answer.ts).
 *
 * Daytona refusing the token is retried once with a fresh link (`relayWebSocketWithRetry`):
 * always safe, since no frame can have been sent before the 101.
 *
 * The log tells what really happened (`opts.log`): the core authorises the handshake
 * (broker/core/upgrade.ts logs only its refusals), the line `upgrade` is written here once the
 * upstream answered: `status` is what the client got (101, the app's own refusal, or the
 * gateway's coded error, with `code`), `upstreamStatus` what Daytona (or the app behind it)
 * said, `ms` the handshake's time. A spliced relay logs `upgrade.closed` when it ends: which
 * side closed first (`by`), how long it lived and the bytes each way.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GateError } from '../../../protocol/index.js';
import type { Logger } from '../../core/contracts.js';
import { writeGateError } from '../raw-answer.js';
import { isRejection, writeAnswer, type WrittenAnswer } from './answer.js';
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
  const clientGone = new AbortController();
  const onClientError = () => clientGone.abort();
  const onClientClose = () => {
    closed = true;
    clientGone.abort();
    opts.onClose?.();
  };
  clientSocket.on('error', onClientError); // a reset client must never crash the process
  clientSocket.once('close', onClientClose);

  const started = Date.now();
  const log = (event: string, fields: Record<string, unknown>) => opts.log?.logger.info(event, { ...opts.log.fields, ...fields });
  try {
    let target = await getTarget(false);
    let answer = await openUpstream(req, target, opts, clientGone.signal);
    if (answer.kind === 'response' && opts.retry !== false && isRejection(answer, target)) {
      target = await getTarget(true);
      answer = await openUpstream(req, target, opts, clientGone.signal);
    }
    const upstreamStatus = answer.res.statusCode ?? 0;
    opts.onAnswer?.(upstreamStatus);
    if (closed) {
      if (answer.kind === 'upgraded') answer.socket.destroy();
      log('upgrade', { status: 499, upstreamStatus, ms: Date.now() - started, code: 'client_gone' });
      return;
    }
    if (answer.kind === 'upgraded') {
      log('upgrade', { status: 101, upstreamStatus, ms: Date.now() - started });
      // The handshake's listeners go: they close over this function's scope (req, opts and,
      // through the caller's callbacks, the core's decision), which a connection idle for
      // hours must not keep (issue 9: ≤ 20 KB per idle connection). What the spliced
      // connection still needs is handed over alone (`keepAfterSplice`).
      clientSocket.off('error', onClientError);
      clientSocket.off('close', onClientClose);
      keepAfterSplice(clientSocket, answer.socket, opts.onClose, opts.log);
      splice(clientSocket, head, answer, target, opts.onSpliced);
    } else {
      const written: WrittenAnswer = await writeAnswer(clientSocket, answer, target, opts);
      log('upgrade', { ...written, upstreamStatus, ms: Date.now() - started });
    }
  } catch (err) {
    if (closed) return;
    const error = err instanceof GateError ? err : new GateError('upstream_unavailable', "Daytona's preview proxy could not be reached.");
    // An answer that is not HTTP at all (Next.js refuses a cross-origin HMR upgrade with bare
    // `Unauthorized` bytes; Daytona's proxy makes that a 502): the upstream did answer, badly.
    const malformed = typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('HPE_');
    if (malformed) opts.onAnswer?.(502);
    log('upgrade', { status: error.status, code: error.code, ...(malformed ? { upstreamStatus: 'malformed' } : {}), ms: Date.now() - started });
    await writeGateError(clientSocket, error);
  }
}

/**
 * What a spliced connection keeps until it closes: the caller's `onClose` (metrics) and, when
 * logging, the logger and the line's fields for `upgrade.closed`. A function of its own, at
 * module level, so its closures hold these alone and not the handshake's scope. A logger that
 * says it writes nothing at `info` (GATE_LOG=off: core/logger.ts silentLogger) gets no
 * `upgrade.closed` bookkeeping at all.
 */
function keepAfterSplice(client: Duplex, upstream: Duplex, onClose: (() => void) | undefined, log: RelayOptions['log']): void {
  if (onClose) client.once('close', () => onClose());
  if (log && log.logger.enabled?.('info') !== false) logClose(client, upstream, log.logger, log.fields);
}

/** `upgrade.closed` once both sockets of a spliced relay are closed: who closed first, how long, how many bytes. */
function logClose(client: Duplex, upstream: Duplex, logger: Logger, fields: Record<string, unknown>): void {
  const opened = Date.now();
  let by: 'client' | 'upstream' | undefined;
  let open = 2;
  const closed = (side: 'client' | 'upstream') => () => {
    by ??= side;
    if (--open > 0) return;
    const bytes = (s: Duplex, key: 'bytesRead' | 'bytesWritten') => (s as Duplex & Partial<Record<typeof key, number>>)[key];
    logger.info('upgrade.closed', { ...fields, by, ms: Date.now() - opened, bytesIn: bytes(client, 'bytesRead'), bytesOut: bytes(client, 'bytesWritten') });
  };
  client.once('close', closed('client'));
  upstream.once('close', closed('upstream'));
}
