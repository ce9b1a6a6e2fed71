/**
 * Daytona's non-101 answers to an upgrade, judged and written back to the client.
 *
 * - Daytona refusing the token (its 307 to the identity provider, or its own 401/403 JSON) is a
 *   rejection (`isRejection`): the relay retries it once with a fresh link.
 * - A non-101 answer is written back sanitized (no Daytona cookie or token, Location mapped to
 *   the public origin), then the socket is closed; Daytona's own errors become coded answers
 *   of the one error model (raw-answer.ts → broker/core/http/respond.ts), Daytona's bare 502
 *   (nothing listening on the port) included: `app_not_listening`, as for HTTP.
 * - Any `Set-Cookie` for a gateway cookie name (`__Host-pg-*`) is dropped (`isGateSetCookie`,
 *   also used on the 101 by splice.ts): the sandbox app must not overwrite (fixate) the
 *   gateway's HttpOnly session cookies, as on plain HTTP answers (broker/core/forward-request.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GATE_COOKIE_PREFIX, GateError, PREVIEW_TOKEN_HEADER } from '../../../protocol/index.js';
import { classifyDaytonaError, isIdentityProviderRedirect } from '../../core/upstream/daytona-answers.js';
import { sanitizeResponseHeaders, type HygieneContext } from '../../core/upstream/sanitize-response.js';
import { appNotListening } from '../../core/upstream/create-upstream.js';
import { writeGateError } from '../raw-answer.js';
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

/** What the client was answered: the status, and the gateway's error code when it was a coded error. */
export interface WrittenAnswer {
  status: number;
  code?: string;
}

function coded(client: Duplex, error: GateError): WrittenAnswer {
  void writeGateError(client, error);
  return { status: error.status, code: error.code };
}

/**
 * Writes a non-101 answer to the client, sanitized or as a coded error, and closes it. Resolves
 * with what the client got (for the relay's log line, ws/relay.ts).
 */
export async function writeAnswer(
  client: Duplex,
  answer: Extract<UpstreamAnswer, { kind: 'response' }>,
  target: WebSocketTarget,
  opts: RelayOptions,
): Promise<WrittenAnswer> {
  const status = answer.res.statusCode ?? 502;
  const text = answer.body.toString('utf8');
  if (isRejection(answer, target)) {
    return coded(client, new GateError('daytona_unavailable', "Daytona does not accept the gateway's preview token for this sandbox."));
  }
  const verdict = status >= 400 ? classifyDaytonaError(status, text) : { kind: 'app' as const };
  if (verdict.kind === 'stopped') {
    return coded(client, opts.onStopped?.() ?? new GateError('sandbox_stopped', 'The sandbox is stopped.'));
  }
  // Daytona's bare 502 (nothing listens on the port yet) and its runner-down 502: coded like the
  // same answers to HTTP (broker/core/upstream/create-upstream.ts), so a client can retry.
  if (verdict.kind === 'not_listening') return coded(client, appNotListening(opts.preview?.target.port ?? portOf(target.url)));
  if (verdict.kind === 'runner_unreachable') {
    return coded(client, new GateError('upstream_unavailable', 'Daytona cannot reach the machine that runs this sandbox.'));
  }
  if (verdict.kind === 'gone') {
    const fallback = new GateError('sandbox_not_found', 'The sandbox does not exist (any more).');
    return coded(client, await (opts.onGone ? opts.onGone().catch(() => fallback) : Promise.resolve(fallback)));
  }
  const headers = headersOf(answer.res);
  const ctx = hygiene(target, opts);
  if (ctx) sanitizeResponseHeaders(headers, ctx);
  else headers.delete('set-cookie');
  headers.delete('content-length');
  const lines = [`HTTP/1.1 ${status} ${answer.res.statusMessage ?? ''}`];
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') lines.push(`${name}: ${value}`);
  });
  for (const cookie of headers.getSetCookie()) if (!isGateSetCookie(cookie)) lines.push(`set-cookie: ${cookie}`);
  lines.push(`content-length: ${answer.body.length}`, 'connection: close');
  client.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), answer.body]));
  return { status };
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

/** The port of a preview host `{port}-{sandboxId}.{domain}` (a relay used without `opts.preview`), else 0. */
function portOf(wsUrl: string): number {
  const m = /^(\d{1,5})-/.exec(new URL(httpUrl(wsUrl)).hostname);
  return m ? Number(m[1]) : 0;
}

function httpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws/i, 'http');
}

/**
 * What sanitize-response.ts needs, from what the core already decided (`authorizeUpgrade`: the
 * preview target, and the core's own preview-origin function) and the link the upstream gave.
 * Without them (a relay used on its own) the answer only loses every cookie.
 */
function hygiene(target: WebSocketTarget, opts: RelayOptions): HygieneContext | null {
  const token = target.headers[PREVIEW_TOKEN_HEADER] ?? Object.entries(target.headers).find(([n]) => n.toLowerCase() === PREVIEW_TOKEN_HEADER)?.[1];
  if (!opts.preview || token === undefined) return null;
  return { target: opts.preview.target, link: { url: new URL(httpUrl(target.url)).origin, token }, previewOrigin: opts.preview.originOf };
}
