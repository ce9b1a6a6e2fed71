/**
 * WebSocket relay: the Node edge hands over an upgrade request it has already authenticated;
 * this opens the upgrade to Daytona's preview proxy with Daytona's token and, once Daytona
 * answers 101, splices the two sockets (raw bytes both ways, no frame parsing: extensions such
 * as permessage-deflate and subprotocols are negotiated end to end).
 *
 * Decisions:
 * - Request headers: the client's end-to-end headers pass (Sec-WebSocket-Key/-Version/
 *   -Protocol/-Extensions, Origin, User-Agent, the app's cookies); hop-by-hop ones are dropped
 *   (RFC 9110 §7.6.1) and `Connection: Upgrade` / `Upgrade: websocket` re-added (RFC 6455 §4.1);
 *   `Host` is Daytona's; client `X-Daytona-*` headers are dropped; the caller names the gateway's
 *   own credentials to strip (`stripRequestHeaders`, `stripCookies`).
 * - Origin is kept as the browser sent it (the gateway's preview origin), as for plain HTTP
 *   requests: the app sees the page's true origin, and X-Forwarded-Host names the same host, so
 *   an app that checks Origin against its forwarded host still accepts it. Rewriting it to
 *   Daytona's host would hide cross-site pages from apps that do check.
 * - Daytona refusing the token (its 307 to the identity provider, or its own 401/403 JSON) is
 *   retried once with a fresh link (`relayWebSocketWithRetry`): always safe, since no frame can
 *   have been sent before the 101.
 * - A non-101 answer is written back sanitized (no Daytona cookie or token, Location mapped to
 *   the public origin), then the socket is closed; Daytona's own errors become coded JSON.
 * - On both the 101 and a non-101 answer, any `Set-Cookie` for a gateway cookie name
 *   (`__Host-pg-*`) is dropped: the sandbox app must not overwrite (fixate) the gateway's
 *   HttpOnly session cookies, as on plain HTTP answers (broker/core/hygiene.ts).
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GATE_COOKIE_PREFIX, GateError, PREVIEW_TOKEN_HEADER, parsePreviewLabel } from '../../protocol/index.js';
import { classifyDaytonaError, isIdentityProviderRedirect } from '../core/upstream/daytona-answers.js';
import { connectionTokens, isHopByHop } from '../core/upstream/hop-by-hop.js';
import { isDaytonaCookie, sanitizeResponseHeaders, type HygieneContext } from '../core/upstream/response-hygiene.js';
import { isLocalhostName } from './fetch-upstream.js';

export interface WebSocketTarget {
  /** `ws://` or `wss://` URL on Daytona's preview host, path and query included. */
  url: string;
  /** Headers Daytona needs (`X-Daytona-Preview-Token`, `X-Daytona-Skip-Preview-Warning`). */
  headers: Record<string, string>;
}

export interface RelayOptions {
  /** Request header names (any case) never sent upstream: the gateway's own credentials. */
  stripRequestHeaders?: string[];
  /** Cookie names never sent upstream; a name ending in `*` is a prefix. */
  stripCookies?: string[];
  /** Called once when both sockets are closed (or the relay gave up). */
  onClose?(): void;
  /** Connect `*.localhost` to 127.0.0.1 (Node does not resolve it). Default true. */
  resolveLocalhost?: boolean;
  /** The client-facing origin, for X-Forwarded-Proto and Location rewriting. Default `http://{Host}`. */
  publicOrigin?: string;
  /** Time allowed for Daytona to answer the upgrade. Default 15 s. */
  timeoutMs?: number;
  /**
   * Daytona said the sandbox is stopped: the error to answer. Pass
   * `() => upstream.sandboxStopped(target.sandboxId)` so autoStart also wakes it from a
   * WebSocket. Default: GateError 'sandbox_stopped'.
   */
  onStopped?(): GateError;
}

type UpstreamAnswer =
  | { kind: 'upgraded'; res: IncomingMessage; socket: Duplex; head: Buffer }
  | { kind: 'response'; res: IncomingMessage; body: Buffer };

const BODY_LIMIT = 8 * 1024;

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
    if (answer.kind === 'upgraded') splice(clientSocket, head, answer, target);
    else writeAnswer(clientSocket, answer, target, req, opts);
  } catch (err) {
    if (closed) return;
    const error =
      err instanceof GateError ? err : new GateError('upstream_unavailable', "Daytona's preview proxy could not be reached.");
    writeError(clientSocket, error);
  }
}

function openUpstream(
  req: IncomingMessage,
  target: WebSocketTarget,
  opts: RelayOptions,
  signal: AbortSignal,
): Promise<UpstreamAnswer> {
  const url = new URL(target.url);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const loopback = (opts.resolveLocalhost ?? true) && isLocalhostName(url.hostname);
  const headers = upstreamHeaders(req, url, target, opts);
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const upstream = (secure ? https : http).request({
      hostname: loopback ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: url.pathname + url.search,
      method: req.method ?? 'GET',
      headers,
      agent: false, // an upgraded socket leaves any pool; no keep-alive bookkeeping
      ...(secure && !loopback ? { servername: url.hostname } : {}),
    });
    const onAbort = () => upstream.destroy(new Error('client went away'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    upstream.setTimeout(opts.timeoutMs ?? 15_000, () => upstream.destroy(new Error('upgrade timed out')));
    upstream.on('error', (err) => {
      done();
      reject(err);
    });
    upstream.on('upgrade', (res, socket, upstreamHead) => {
      socket.on('error', () => socket.destroy()); // until splice() takes over
      done();
      upstream.setTimeout(0);
      resolve({ kind: 'upgraded', res, socket, head: upstreamHead });
    });
    upstream.on('response', (res) => {
      done();
      upstream.setTimeout(0);
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => resolve({ kind: 'response', res, body: Buffer.concat(chunks).subarray(0, BODY_LIMIT) });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // An answer to a failed upgrade is relayed only in part: never wait on an endless body.
        if (size >= BODY_LIMIT) {
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', () => finish());
    });
    upstream.end();
  });
}

function upstreamHeaders(req: IncomingMessage, url: URL, target: WebSocketTarget, opts: RelayOptions): Record<string, string | string[]> {
  const strip = new Set((opts.stripRequestHeaders ?? []).map((n) => n.toLowerCase()));
  const named = connectionTokens(req.headers.connection);
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (isHopByHop(name, named) || name === 'host' || name.startsWith('x-daytona-') || strip.has(name)) continue;
    if (name === 'x-forwarded-host' || name === 'x-forwarded-proto') continue;
    const prior = out[name];
    out[name] = prior === undefined ? value : ([] as string[]).concat(prior, value);
  }
  if (out.cookie !== undefined && opts.stripCookies?.length) {
    const cookie = filterCookies(([] as string[]).concat(out.cookie).join('; '), opts.stripCookies);
    if (cookie === '') delete out.cookie;
    else out.cookie = cookie;
  }
  const publicOrigin = opts.publicOrigin ?? `http://${req.headers.host ?? ''}`;
  out.host = url.host;
  out.connection = 'Upgrade';
  out.upgrade = req.headers.upgrade ?? 'websocket';
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-proto'] = publicOrigin.startsWith('https:') ? 'https' : 'http';
  const peer = req.socket.remoteAddress;
  if (peer) {
    const prior = out['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${([] as string[]).concat(prior).join(', ')}, ${peer}` : peer;
  }
  for (const [name, value] of Object.entries(target.headers)) out[name.toLowerCase()] = value;
  return out;
}

function filterCookies(header: string, names: string[]): string {
  const drop = (name: string) => names.some((n) => (n.endsWith('*') ? name.startsWith(n.slice(0, -1)) : name === n));
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !drop(part.slice(0, part.indexOf('=') < 0 ? part.length : part.indexOf('=')).trim()))
    .join('; ');
}

/** A `Set-Cookie` value that would set one of the gateway's own cookies (the app may not). */
function isGateSetCookie(value: string): boolean {
  return value.trim().startsWith(GATE_COOKIE_PREFIX);
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

function isRejection(answer: { res: IncomingMessage; body: Buffer }, target: WebSocketTarget): boolean {
  const status = answer.res.statusCode ?? 0;
  const probe = new Response(null, { status: status === 307 ? 307 : 200, headers: headersOf(answer.res) });
  if (status === 307) return isIdentityProviderRedirect(probe, httpUrl(target.url));
  if (status === 401 || status === 403) return classifyDaytonaError(status, answer.body.toString('utf8')).kind === 'rejected';
  return false;
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

/** Writes Daytona's 101 (sanitized) to the client and pipes raw bytes both ways. */
function splice(
  client: Duplex,
  clientHead: Buffer,
  answer: Extract<UpstreamAnswer, { kind: 'upgraded' }>,
  target: WebSocketTarget,
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
  if (answer.head.length > 0) client.write(answer.head);
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
  upstream.pipe(client);
  client.pipe(upstream);
}

function setNoDelay(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
  s.setNoDelay?.(true);
  s.setTimeout?.(0);
}

function writeAnswer(
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

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
