/**
 * The Node edge of the gateway: the one place that owns sockets. It serves the portable core
 * (`createGateway`) through @hono/node-server, except requests for apps on preview origins,
 * which its own lane hands to the core (direct-lane.ts), handles WebSocket upgrades (the core decides
 * with `authorizeUpgrade`, ws/relay.ts carries the bytes), reads the built browser assets from
 * dist/, and wires the real Daytona SDK port and the node:http fetch into the upstream side.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { GATE_COOKIE_PREFIX, GateError } from '../../protocol/index.js';
import { createGateway, type Gateway } from '../core/gateway.js';
import { resolveConfig, type GatewayConfig, type ResolvedConfig } from '../core/config.js';
import { previewOrigin } from '../core/http/host.js';
import { errorResponse } from '../core/http/respond.js';
import { createMetrics, METRIC } from '../core/metrics.js';
import { createStdoutLogger } from './stdout-logger.js';
import { createUpstream } from '../core/upstream/index.js';
import type { Clock, DaytonaPort, GatewayAssets, Logger } from '../core/contracts.js';
import type { PreviewPolicy } from '../core/auth/policy.js';
import type { Store } from '../core/store/store.js';
import { createDaytonaPort } from './daytona-sdk.js';
import { createNodeFetch } from './fetch-upstream.js';
import { sendDirect, withDirectBody } from './handover.js';
import { bindRequest, createDirectLane, handedBack } from './direct-lane.js';
import { relayWebSocketWithRetry } from './ws/relay.js';
import { destroyOnError } from './ws/open-upstream.js';
import { writeRawResponse } from './raw-answer.js';
import { createDrainer, type DrainResult } from './drain.js';
import { connectLimiterRedis, createRateLimiterFactory, type RedisLikeClient } from './rate-limiter.js';
import { createClientAddressResolver } from './client-address.js';
import { sharedStateFromConfig } from './shared-state.js';
import { codedAnswer, edgeServerOptions, framingError, guardedServer } from './edge-guards.js';
import { packageVersion } from './version.js';

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
  /** Default bound of `drain()`: seconds requests in flight may take to finish. Default 25 (`GATE_DRAIN_SECONDS`). */
  drainSeconds?: number;
  /** A connected node-redis client: rate limits are then counted in Redis, shared by a fleet. */
  redis?: RedisLikeClient | null;
}

export interface RunningGateway {
  /** `http://{host}:{port}`: the gateway's own origin. */
  url: string;
  port: number;
  /** The core (app, rotateKeys, metrics, store, previewOrigin, ...). */
  app: Gateway;
  /**
   * Graceful stop (drain.ts): /readyz 503 at once, no new connections, requests in flight
   * finish (bounded by `timeoutMs`, default `drainSeconds`), WebSockets closed with 1001, then
   * everything released as by `close()`. Resolves with how many connections had to be cut.
   */
  drain(opts?: { timeoutMs?: number }): Promise<DrainResult>;
  /** Immediate stop: every connection cut. */
  close(): Promise<void>;
}

/** Default bound of a graceful stop: under Kubernetes' default 30 s grace period. */
export const DEFAULT_DRAIN_SECONDS = 25;

const ASSET_FILES: Record<keyof GatewayAssets, string> = { serviceWorker: 'sw.js', bootstrap: 'bootstrap.js', embed: 'embed.js', wsShim: 'ws.js' };

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
  // From source (broker/node/) and the dev bundle (dist/gateway.mjs): <repo>/dist. From the
  // published package the code sits in dist/lib/ or dist/lib/chunks/: the nearest dist/ above.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (basename(dir) === 'dist') return dir;
    if (existsSync(join(dir, 'dist', 'sw.js'))) return join(dir, 'dist');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
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

/** The process's first log line: which version, on which Node. */
function logStarting(logger: Logger): void {
  logger.info('starting', { version: packageVersion(), node: process.version, pid: process.pid });
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
  const base = resolveConfig(opts.config); // resolved once, and validated before opening any socket
  const clientAddress = createClientAddressResolver(base.trustedProxies);
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? createStdoutLogger('json');
  logStarting(logger);
  let gateway: Gateway | null = null;

  // Requests for an app on a preview origin skip the adapter below (direct-lane.ts).
  const lane = createDirectLane({ gateway: () => gateway, clientAddress, replayLimit: base.upstreamReplayLimitBytes });
  const server = createAdaptorServer({
    fetch: async (request, env) => {
      // An answer the lane computed and left to the adapter to write (a coded refusal, an answer the core rebuilt).
      const handed = handedBack((env as Partial<HttpBindings>).incoming as IncomingMessage | undefined);
      if (handed) return handed;
      if (!gateway) return errorResponse(new GateError('gateway_starting', 'The gateway is starting; try again in a moment.', { 'retry-after': '1' }), request);
      const { incoming, outgoing } = env as Partial<HttpBindings>;
      const node = incoming as IncomingMessage | undefined;
      // What the core reads beside the request, as the lane gives it (direct-lane.ts bindRequest).
      if (node && outgoing) bindRequest(env as object, node, outgoing as ServerResponse, clientAddress);
      const res = await gateway.handle(withDirectBody(request, node, base.upstreamReplayLimitBytes), env);
      return outgoing && sendDirect(res, outgoing) ? RESPONSE_ALREADY_SENT : res;
    },
    // Framing refusals, coded parser errors and the socket timeouts (edge-guards.ts).
    serverOptions: edgeServerOptions(base),
    createServer: guardedServer(base, lane) as never,
  }) as Server;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const drainer = createDrainer(server, sockets);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8787, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const ownDaytona = opts.daytona ? null : createDaytonaPort({ ...opts.daytonaApi, logger });
  const daytona = opts.daytona ?? ownDaytona!;
  const fetchUpstream = createNodeFetch({ connectTimeoutMs: base.upstreamConnectTimeoutMs, responseTimeoutMs: base.upstreamResponseTimeoutMs });
  // publicPort unset: the listening port (known only now); everything else as resolved above.
  const resolved: ResolvedConfig = opts.config.publicPort === undefined ? { ...base, publicPort: port } : base;
  const metrics = createMetrics();
  const upstream = createUpstream({
    daytona,
    fetch: fetchUpstream,
    metrics,
    logger,
    previewOrigin: (t) => previewOrigin(resolved, t),
    autoStart: resolved.autoStart,
    replayLimit: resolved.upstreamReplayLimitBytes,
    linkCache: { ttlMs: resolved.linkCacheTtlMs },
    activityUpdates: resolved.activityUpdates,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  let shared: Awaited<ReturnType<typeof sharedStateFromConfig>> = null;
  // Rate limits shared by the fleet: counted in the same Redis as the store (GATE_REDIS_URL).
  let limiterRedis: Awaited<ReturnType<typeof connectLimiterRedis>> | null = null;
  try {
    // GATE_REDIS_URL: the Redis store and the fleet's key set (broker/node/shared-state.ts).
    shared = opts.store ? null : await sharedStateFromConfig(resolved, { logger, ...(opts.clock ? { clock: opts.clock } : {}) });
    if (shared && resolved.redis && !opts.redis) limiterRedis = await connectLimiterRedis(resolved.redis.url);
    gateway = await createGateway(resolved, {
      upstream,
      daytona,
      metrics,
      logger,
      assets: loadAssets(opts.assetsDir ?? defaultAssetsDir()),
      ...(opts.store ? { store: opts.store } : shared ? { store: shared.store } : {}),
      ...(shared?.keys ? { keys: shared.keys } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      rateLimiters: createRateLimiterFactory({ redis: opts.redis ?? limiterRedis?.client ?? null, prefix: resolved.redis?.prefix ?? '' }),
      version: packageVersion(),
    });
  } catch (err) {
    server.close();
    await limiterRedis?.close();
    await shared?.close();
    fetchUpstream.close();
    await ownDaytona?.close();
    throw err;
  }
  const gw = gateway;

  // One function for every relayed WebSocket (not a closure per connection, which would keep
  // the handshake's scope, its request and the core's decision, as long as the socket lives:
  // the relay's own listeners let go of them once spliced, ws/relay.ts#keepAfterSplice).
  const webSocketClosed = () => metrics.inc(METRIC.wsOpen, undefined, -1);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError); // a reset client never crashes the process
    void (async () => {
      const badFraming = framingError(req);
      if (badFraming) return void socket.end(codedAnswer(badFraming));
      // The same address as for HTTP: the socket's peer, or X-Forwarded-For through GATE_TRUSTED_PROXIES.
      const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);
      const decision = await gw.authorizeUpgrade(upgradeRequest(req), address ? { clientAddress: address } : {});
      if (!decision.ok) return writeRawResponse(socket, decision.response);
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
          // What the core decided, passed on: the relay never re-parses Daytona's host.
          preview: { target: decision.target, originOf: gw.previewOrigin },
          onClose: webSocketClosed,
          timeoutMs: resolved.upgradeTimeoutMs,
          onSpliced: (link) => drainer.trackWebSocket(socket, link),
          // The handshake was authorised above, so a stopped sandbox may be woken (auto-start)
          // from a socket too, not only from a page load.
          onStopped: () => upstream.sandboxStopped(decision.target.sandboxId),
          onGone: () => upstream.confirmGone(decision.target.sandboxId),
          // The relay logs the upstream's real answer and the close (ws/relay.ts), not the core.
          onAnswer: decision.upstreamAnswered,
          // decision.log: the handshake's logger, so the relay's lines carry its rid (ops.ts requestLog).
          log: { logger: decision.log, fields: { host: req.headers.host, path: decision.path.split('?', 1)[0], user: decision.principal.userId } },
        },
      );
    })().catch((err: unknown) => {
      logger.error('upgrade_failed', { error: err instanceof Error ? err.name : 'unknown' });
      socket.destroy();
    });
  });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    gw.readiness.startDraining();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    fetchUpstream.close();
    await gw.close();
    await limiterRedis?.close();
    await shared?.close();
    await ownDaytona?.close();
  };
  const defaultDrainMs = (opts.drainSeconds ?? DEFAULT_DRAIN_SECONDS) * 1000;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app: gw,
    async drain(drainOpts) {
      gw.readiness.startDraining(); // first: a load balancer polling /readyz stops sending at once
      const result = await drainer.drain(drainOpts?.timeoutMs ?? defaultDrainMs);
      if (result.forced > 0) logger.warn('drain_timeout', { forced: result.forced, ms: result.ms });
      else logger.info('drained', { ms: result.ms });
      await close();
      return result;
    },
    close,
  };
}
