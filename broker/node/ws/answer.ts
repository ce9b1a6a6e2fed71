/**
 * Daytona's non-101 answers to an upgrade, judged and written back to the client.
 *
 * - Daytona refusing the token (its 307 to the identity provider, or its own 401/403 JSON) is a
 *   rejection (`isRejection`): the relay retries it once with a fresh link.
 * - A non-101 answer is written back sanitized (no Daytona cookie or token, Location mapped to
 *   the public origin), then the socket is closed; Daytona's own errors become coded JSON.
 * - Any `Set-Cookie` for a gateway cookie name (`__Host-pg-*`) is dropped (`isGateSetCookie`,
 *   also used on the 101 by splice.ts): the sandbox app must not overwrite (fixate) the
 *   gateway's HttpOnly session cookies, as on plain HTTP answers (broker/core/hygiene.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GATE_COOKIE_PREFIX, GateError, PREVIEW_TOKEN_HEADER, parsePreviewLabel } from '../../../protocol/index.js';
import { classifyDaytonaError, isIdentityProviderRedirect } from '../../core/upstream/daytona-answers.js';
import { sanitizeResponseHeaders, type HygieneContext } from '../../core/upstream/response-hygiene.js';
import type { UpstreamAnswer } from './open-upstream.js';
import type { RelayOptions, WebSocketTarget } from './relay-options.js';

/** A `Set-Cookie` value that would set one of the gateway's own cookies (the app may not). */
export function isGateSetCookie(value: string): boolean {
  return value.trim().startsWith(GATE_COOKIE_PREFIX);
}

/** Whether Daytona refused the target's token (so a fresh link may succeed). */
export function isRejection(answer: { res: IncomingMessage; body: Buffer }, target: WebSocketTarget): boolean {
  const status = answer.res.statusCode ?? 0;
  const probe = new Response(null, { status: status === 307 ? 307 : 200, headers: headersOf(answer.res) });
  if (status === 307) return isIdentityProviderRedirect(probe, httpUrl(target.url));
  if (status === 401 || status === 403) return classifyDaytonaError(status, answer.body.toString('utf8')).kind === 'rejected';
  return false;
}

/** Writes a non-101 answer to the client, sanitized or as a coded error, and closes it. */
export function writeAnswer(
  client: Duplex,
  answer: Extract<UpstreamAnswer, { kind: 'response' }>,
  target: WebSocketTarget,
  req: IncomingMessage,
  opts: RelayOptions,
): void {
  const status = answer.res.statusCode ?? 502;
  const text = answer.body.toString('utf8');
  if (isRejection(answer, target)) {
    return writeError(client, new GateError('daytona_unavailable', "Daytona does not accept the gateway's preview token for this sandbox."));
  }
  const verdict = status >= 400 ? classifyDaytonaError(status, text) : { kind: 'app' as const };
  if (verdict.kind === 'stopped') return writeError(client, opts.onStopped?.() ?? new GateError('sandbox_stopped', 'The sandbox is stopped.'));
  if (verdict.kind === 'gone') return writeError(client, new GateError('sandbox_not_found', 'The sandbox does not exist (any more).'));
  const headers = headersOf(answer.res);
  const ctx = hygiene(target, req, opts);
  if (ctx) sanitizeResponseHeaders(headers, ctx);
  else headers.delete('set-cookie');
  headers.delete('content-length');
  const lines = [`HTTP/1.1 ${status} ${answer.res.statusMessage ?? ''}`];
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') lines.push(`${name}: ${value}`);
  });
  for (const cookie of headers.getSetCookie()) if (!isGateSetCookie(cookie)) lines.push(`set-cookie: ${cookie}`);
  lines.push(`content-length: ${answer.body.length}`, 'connection: close');
  client.end(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), answer.body]));
}

/** A coded JSON error in the shape of protocol/errors.ts, then the socket is closed. */
export function writeError(client: Duplex, error: GateError): void {
  if (client.destroyed) return;
  const body = JSON.stringify(error.toJSON());
  const extra = Object.entries(error.headers).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  client.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\ncontent-type: application/json; charset=utf-8\r\n${extra}` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function headersOf(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
    } catch {
      // unrepresentable value: dropped
    }
  }
  return headers;
}

function httpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws/i, 'http');
}

function hygiene(target: WebSocketTarget, req: IncomingMessage, opts: RelayOptions): HygieneContext | null {
  const url = new URL(httpUrl(target.url));
  const parsed = parsePreviewLabel(url.hostname.split('.')[0] ?? '');
  const token = target.headers[PREVIEW_TOKEN_HEADER] ?? Object.entries(target.headers).find(([n]) => n.toLowerCase() === PREVIEW_TOKEN_HEADER)?.[1];
  if (!parsed || token === undefined) return null;
  const publicOrigin = opts.publicOrigin ?? `http://${req.headers.host ?? ''}`;
  return {
    target: parsed,
    link: { url: url.origin, token },
    previewOrigin: (t) => (t.port === parsed.port ? publicOrigin : publicOrigin.replace(/^([a-z]+:\/\/)[0-9]+-/i, `$1${t.port}-`)),
  };
}
