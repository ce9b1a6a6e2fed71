/**
 * The Node edge of the gateway: the one place that owns sockets. It serves the portable core
 * (`createGateway`) through @hono/node-server, handles WebSocket upgrades (the core decides
 * with `authorizeUpgrade`, ws/relay.ts carries the bytes), reads the built browser assets from
 * dist/, and wires the real Daytona SDK port and the node:http fetch into the upstream side.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { STATUS_CODES } from 'node:http';
import { GATE_COOKIE_PREFIX } from '../../protocol/index.js';
import { createGateway, type Gateway } from '../core/gateway.js';
import { resolveConfig, type GatewayConfig } from '../core/config.js';
import { previewOrigin } from '../core/http/host.js';
import { createMetrics, METRIC } from '../core/metrics.js';
import { createStdoutLogger } from './stdout-logger.js';
import { createUpstream, DEFAULT_REPLAY_LIMIT } from '../core/upstream/index.js';
import type { Clock, DaytonaPort, GatewayAssets, Logger } from '../core/contracts.js';
import type { PreviewPolicy } from '../core/auth/policy.js';
import type { Store } from '../core/store/store.js';
import { createDaytonaPort } from './daytona-sdk.js';
import { createNodeFetch, nodeRequestBody, takeNodeBody } from './fetch-upstream.js';
import { relayWebSocketWithRetry } from './ws-relay.js';

export interface StartGatewayOptions {
  /** The gateway's configuration (broker/core/config.ts); `publicPort` defaults to the listening port. */
  config: GatewayConfig;
  /** Daytona. Default: the real SDK port over `daytonaApi` (or the SDK's environment). */
  daytona?: DaytonaPort;
  /** Where the default SDK port finds Daytona (DAYTONA_API_URL / _KEY / _TARGET). */
  daytonaApi?: { apiUrl?: string; apiKey?: string; target?: string };
  /** Port to listen on; 0 picks an ephemeral one. Default 8787. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Directory of the built browser assets. Default `<repo>/dist`. */
  assetsDir?: string;
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  policy?: PreviewPolicy;
}

export interface RunningGateway {
  /** `http://{host}:{port}`: the gateway's own origin. */
  url: string;
  port: number;
  /** The core (app, rotateKeys, metrics, store, previewOrigin, ...). */
  app: Gateway;
  close(): Promise<void>;
}

const ASSET_FILES: Record<keyof GatewayAssets, string> = { serviceWorker: 'sw.js', bootstrap: 'bootstrap.js', embed: 'embed.js' };

/** Reads dist/*.js; a missing file stays undefined and is answered 503 "assets not built". */
export function loadAssets(dir: string): Partial<GatewayAssets> {
  const out: Partial<GatewayAssets> = {};
  for (const [key, file] of Object.entries(ASSET_FILES) as [keyof GatewayAssets, string][]) {
    try {
      out[key] = readFileSync(join(dir, file), 'utf8');
    } catch {
      /* not built */
    }
  }
  return out;
}

function defaultAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source: broker/node/ → <repo>/dist; bundled (dist/gateway.mjs): next to the bundle.
  return basename(here) === 'dist' ? here : join(here, '..', '..', 'dist');
}

/** The Web Request of an upgrade (headers only; an upgrade has no body). */
function upgradeRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    } catch {
      /* a header value Fetch refuses: drop it */
    }
  }
  return new Request(`http://${req.headers.host ?? 'invalid.'}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
}

/** Writes a refusal on a raw upgrade socket and closes it. */
async function writeRefusal(socket: Duplex, res: Response): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer());
  const lines = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`];
  res.headers.forEach((v, k) => {
    if (k !== 'set-cookie' && k !== 'content-length') lines.push(`${k}: ${v}`);
  });
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}

/** What @hono/node-server puts on a body without Content-Type; kept so both paths answer alike. */
const DEFAULT_CONTENT_TYPE = 'text/plain; charset=UTF-8';

/**
 * Writes a proxied answer whose body is still the untouched upstream IncomingMessage (see
 * takeNodeBody) straight to the client socket: headers and an already complete small body in
 * one write, a longer body piped with Node's own backpressure. Everything the core decided
 * (status, sanitized headers, cookies) comes from `res`; only the body bytes skip the Web
 * stream. Returns false (nothing written) when the body is not eligible.
 */
function sendDirect(res: Response, outgoing: ServerResponse): boolean {
  if (outgoing.headersSent || outgoing.destroyed) return false;
  // Looked up by the Response object the upstream fetch made (kept through hygiene and the
  // proxy route); a replaced Response or body, or one already read from, is not eligible.
  const taken = takeNodeBody(res);
  if (taken === null) return false;
  const headers: OutgoingHttpHeaders = {};
  const cookies: string[] = [];
  for (const [name, value] of res.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else headers[name] = value;
  }
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-type'] ??= DEFAULT_CONTENT_TYPE;
  const src = taken.res;
  if (taken.ended) {
    const bytes = taken.chunks.length === 1 ? taken.chunks[0]! : Buffer.concat(taken.chunks);
    headers['content-length'] ??= String(bytes.length);
    outgoing.writeHead(res.status, headers);
    outgoing.end(bytes);
    return true;
  }
  let complete = false;
  src.once('end', () => {
    complete = true;
    taken.release();
  });
  src.once('close', () => {
    taken.release();
    // The upstream ended before the body did: cut the client off so it sees a truncated
    // answer as an error (as the Web-stream path does), never as a complete one.
    if (!complete) outgoing.destroy();
  });
  src.on('error', () => {}); // surfaced through 'close'
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) src.destroy(); // the client went away: stop reading Daytona
  });
  outgoing.writeHead(res.status, headers);
  for (const chunk of taken.chunks) outgoing.write(chunk);
  src.pipe(outgoing);
  return true;
}

/**
 * The request the core sees. A body declared larger than the replay limit (so the upstream side
 * passes it on unread, retry.ts) gets a stream from `nodeRequestBody` instead of
 * @hono/node-server's: if it reaches the upstream fetch untouched, fetch-upstream.ts pipes the
 * client's socket straight into Daytona's (the mirror of sendDirect); read, replaced or locked
 * on the way, it is an ordinary Web stream. Every other request passes as @hono/node-server made it.
 */
function withDirectBody(request: Request, incoming: IncomingMessage | undefined): Request {
  if (!incoming || request.method === 'GET' || request.method === 'HEAD') return request;
  const declared = incoming.headers['content-length'];
  if (declared === undefined || !(Number(declared) > DEFAULT_REPLAY_LIMIT) || incoming.readableDidRead) return request;
  try {
    const init: RequestInit & { duplex: 'half' } = {
      method: request.method,
      headers: request.headers,
      body: nodeRequestBody(incoming),
      duplex: 'half',
      signal: request.signal,
    };
    return new Request(request.url, init);
  } catch {
    return request; // a method Fetch refuses (TRACE, CONNECT): as @hono/node-server made it
  }
}

/**
 * Starts the gateway on a socket.
 *
 * @example
 * const gw = await startGateway({ config: { userJwtSecret }, port: 0, daytonaApi: { apiUrl, apiKey } });
 * console.log(gw.url); // http://127.0.0.1:54321
 * await gw.close();
 */
export async function startGateway(opts: StartGatewayOptions): Promise<RunningGateway> {
  resolveConfig(opts.config); // validate before opening any socket
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? createStdoutLogger('json');
  let gateway: Gateway | null = null;

  const server = createAdaptorServer({
    fetch: async (request, env) => {
      if (!gateway) return new Response('starting', { status: 503 });
      const { incoming, outgoing } = env as Partial<HttpBindings>;
      const res = await gateway.app.fetch(withDirectBody(request, incoming as IncomingMessage | undefined), env);
      return outgoing && sendDirect(res, outgoing) ? RESPONSE_ALREADY_SENT : res;
    },
  }) as Server;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8787, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const ownDaytona = opts.daytona ? null : createDaytonaPort({ ...opts.daytonaApi, logger });
  const daytona = opts.daytona ?? ownDaytona!;
  const fetchUpstream = createNodeFetch();
  const config: GatewayConfig = { ...opts.config, publicPort: opts.config.publicPort === undefined ? port : opts.config.publicPort };
  const resolved = resolveConfig(config);
  const metrics = createMetrics();
  const upstream = createUpstream({
    daytona,
    fetch: fetchUpstream,
    metrics,
    logger,
    previewOrigin: (t) => previewOrigin(resolved, t),
    autoStart: resolved.autoStart,
    activityUpdates: resolved.activityUpdates,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  try {
    gateway = await createGateway(config, {
      upstream,
      daytona,
      metrics,
      logger,
      assets: loadAssets(opts.assetsDir ?? defaultAssetsDir()),
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
    });
  } catch (err) {
    server.close();
    fetchUpstream.close();
    await ownDaytona?.close();
    throw err;
  }
  const gw = gateway;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a reset client never crashes the process
    void (async () => {
      const decision = await gw.authorizeUpgrade(upgradeRequest(req));
      if (!decision.ok) return writeRefusal(socket, decision.response);
      metrics.inc(METRIC.wsTotal);
      metrics.inc(METRIC.wsOpen);
      await relayWebSocketWithRetry(
        req,
        socket,
        head,
        async (fresh) => {
          const t = await upstream.webSocketTarget(decision.target, decision.path, { fresh });
          return { url: t.url, headers: { ...t.headers, ...decision.forwardHeaders } };
        },
        {
          stripRequestHeaders: decision.stripRequestHeaders,
          stripCookies: [`${GATE_COOKIE_PREFIX}*`],
          publicOrigin: decision.origin,
          onClose: () => metrics.inc(METRIC.wsOpen, undefined, -1),
          // The handshake was authorised above, so a stopped sandbox may be woken (auto-start)
          // from a socket too, not only from a page load.
          onStopped: () => upstream.sandboxStopped(decision.target.sandboxId),
        },
      );
    })().catch((err: unknown) => {
      logger.error('upgrade_failed', { error: err instanceof Error ? err.name : 'unknown' });
      socket.destroy();
    });
  });

  let closed = false;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app: gw,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      fetchUpstream.close();
      await gw.close();
      await ownDaytona?.close();
    },
  };
}
