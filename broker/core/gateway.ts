/**
 * `createGateway(config, deps)`: the whole gateway as a portable Hono app (Web-standard
 * Request/Response, no `node:` imports). It serves two kinds of host:
 *  - the gateway's own origin: broker API, JWKS, /healthz, /metrics, /embed.js;
 *  - every preview origin `{port}-{sandboxId}.{previewDomain}[:publicPort]`: /__gate/ and the proxy.
 * Routing by host uses Hono's `getPath`: the path each route sees is prefixed with the host
 * kind (`/~gw`, `/~pv`, `/~xx`), so one router serves both without a host check in every route.
 *
 * @example
 * const gw = await createGateway({ userJwtSecret: process.env.GATE_USER_JWT_SECRET }, { upstream, daytona });
 * const res = await gw.fetch(new Request('http://127.0.0.1:8787/healthz'));
 */
import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { GateError, type PreviewTarget } from '../../protocol/index.js';
import type { Clock, DaytonaPort, GatewayAssets, Logger, Principal, Upstream } from './contracts.js';
import { resolveConfig, type GatewayConfig, type ResolvedConfig } from './config.js';
import { GW, PV, XX, type GateApp, type GateEnv, type GateVariables, type GatewayContext, type RequestScope } from './context.js';
import { createMemoryStore } from './store/memory.js';
import type { Store } from './store/store.js';
import { createKeyRing } from './tokens/keys.js';
import { createTokens } from './tokens/tokens.js';
import { randomToken } from './tokens/crypto.js';
import { createCredentials } from './credentials.js';
import { createAuthenticator } from './authenticate.js';
import { createUserSessionVerifier } from './auth/user-session.js';
import { labelPolicy, type PreviewPolicy } from './auth/policy.js';
import { createMetrics, fixedLabels, METRIC, type MetricsRegistry } from './metrics.js';
import { createJsonLogger, silentLogger } from './logger.js';
import { classifyHost, previewOrigin, type HostKind } from './http/host.js';
import { errorResponse } from './http/respond.js';
import { hostOf, rememberedHost, rememberHost, urlOf } from './request-host.js';
import { siblingErrorCors } from './tokens/sibling-origins.js';
import { registerBrokerRoutes } from './broker-api.js';
import { registerGatePaths } from './gate-paths.js';
import { previewGuard, proxyPreview, registerPreviewGuards, registerProxy } from './proxy.js';
import { createUpgradeAuthorizer, type UpgradeContext, type UpgradeDecision } from './upgrade.js';
import { createReadiness, defaultProbes, type Readiness } from './readiness.js';
import { createLimits } from './limits/limits.js';
import type { RateLimiterFactory } from './limits/limiter.js';
import { createHttpPolicy } from './auth/policy-url.js';
import { registerBulkEnd } from './bulk-end.js';
import { logRequest, REQUEST_ID_HEADER, requestLog, registerOpsRoutes, registerOriginDiagnosis, registerRequestId, startRequest, withHeader } from './ops.js';
import { isReservedPath } from './http/paths.js';

export interface GatewayDeps {
  /** The upstream side (broker/core/upstream): forwards to Daytona's preview proxy. */
  upstream: Upstream;
  /** Daytona, for sandbox lookups (policy, public sandboxes). */
  daytona: DaytonaPort;
  /** Default: the in-memory store (one process). */
  store?: Store;
  /** Default `Date.now`. */
  clock?: Clock;
  /** Default: generated key, or `config.signingKeys`. Pass a ring to share keys between gateways in tests. */
  keys?: import('./tokens/keys.js').KeyRing;
  /** Built browser assets; a missing one is answered 503 "assets not built". */
  assets?: Partial<GatewayAssets>;
  /** Default: one JSON line per event on stdout. */
  logger?: Logger;
  /** Default: a fresh registry, served at /metrics. Pass one shared with the upstream side so /metrics shows both. */
  metrics?: MetricsRegistry;
  /** Authorisation hook. Default: the `preview-gate.users` label (labelPolicy). */
  policy?: PreviewPolicy;
  /** What `/readyz` reports (readiness.ts). Default: draining flag + store ping + Daytona API probe, cached 5 s. */
  readiness?: Readiness;
  /**
   * Rate limiters (broker/node/rate-limiter.ts: rate-limiter-flexible in memory or over Redis).
   * The Node entry always passes one; without it no rate limit applies (caps still do).
   */
  rateLimiters?: RateLimiterFactory;
  /** The version shown by /healthz (the Node entry passes the package's). */
  version?: string;
}

export interface Gateway {
  /** The Hono app: the gateway's own origin, /__gate/ and unknown hosts (proxied requests go through `handle`). */
  app: GateApp;
  /** The gateway's fetch handler: `handle` without runtime bindings. */
  fetch(request: Request): Promise<Response>;
  /**
   * Every request, with the runtime edge's bindings (`env`: client address, client-abort hook, raw
   * header list) and, when the edge parsed it already, `request.url` as a URL. Proxied preview
   * requests take the direct path; the rest goes to `app`.
   */
  handle(request: Request, env?: unknown, url?: URL): Promise<Response>;
  /**
   * Whether a request for `url` takes the direct path (a preview origin, not /__gate/): the Node
   * edge asks before it makes its own request view for `handle` (broker/node/direct-lane.ts).
   */
  takesDirectPath(url: URL): boolean;
  /** Decides a WebSocket upgrade (see upgrade.ts); the runtime edge relays on ok. */
  authorizeUpgrade(request: Request, context?: UpgradeContext): Promise<UpgradeDecision>;
  /** New signing key from now on; the old keeps verifying until its tokens expire. Returns the new kid. */
  rotateKeys(): Promise<string>;
  /** The public JWK set. */
  jwks(): { keys: Record<string, unknown>[] };
  /** The canonical preview origin of a sandbox port. */
  previewOrigin(target: PreviewTarget): string;
  config: ResolvedConfig;
  metrics: MetricsRegistry;
  store: Store;
  logger: Logger;
  /** `/readyz`: `startDraining()` turns it 503 at once (the Node edge calls it on SIGTERM). */
  readiness: Readiness;
  close(): Promise<void>;
}

/** How many requests took the direct path (gateway.ts `handle`; tests prove the fast path is taken). */
export const directStats = { requests: 0 };

/** The direct path's request scope: what Hono's Context holds for a route, and no more (context.ts RequestScope). */
class DirectScope implements RequestScope {
  readonly req: { readonly raw: Request; readonly method: string };
  #vars: GateVariables = {};
  constructor(
    raw: Request,
    readonly env: unknown,
  ) {
    this.req = { raw, method: raw.method };
  }
  get<K extends keyof GateVariables>(key: K): GateVariables[K] {
    return this.#vars[key];
  }
  set<K extends keyof GateVariables>(key: K, value: GateVariables[K]): void {
    this.#vars[key] = value;
  }
}

/** Redacts anything token-shaped from an exception message before it is logged. */
function redact(s: string): string {
  return s.replace(/[A-Za-z0-9_\-.~+/]{24,}=*/g, '[redacted]').slice(0, 300);
}

/**
 * Builds the gateway. Configuration is validated synchronously (a TypeError says what to set),
 * unless it already is a resolved one (`resolveConfig`, as the Node edge passes it: resolved
 * once); keys are generated or imported asynchronously.
 */
export function createGateway(config: GatewayConfig | ResolvedConfig, deps: GatewayDeps): Promise<Gateway> {
  const cfg = isResolved(config) ? config : resolveConfig(config);
  if (!deps || !deps.upstream || !deps.daytona) throw new TypeError('createGateway: deps.upstream and deps.daytona are required');
  return build(cfg, deps);
}

function isResolved(config: GatewayConfig | ResolvedConfig): config is ResolvedConfig {
  return 'resolved' in config && config.resolved === true;
}

async function build(config: ResolvedConfig, deps: GatewayDeps): Promise<Gateway> {
  const clock = deps.clock ?? Date.now;
  const store = deps.store ?? createMemoryStore({ clock, accessTtlMs: config.accessTtlMs });
  const logger = deps.logger ?? createJsonLogger();
  const metrics = deps.metrics ?? createMetrics();
  const logRequests = logger !== silentLogger && logger.enabled?.('info') !== false;
  metrics.declareGauge(METRIC.wsOpen, 'WebSocket connections open now');
  metrics.describe(METRIC.requests, 'HTTP requests by host kind and status class');
  metrics.describe(METRIC.duration, 'Time to response headers, seconds');
  metrics.describe(METRIC.refreshes, 'Refresh-credential uses by result (rotated, grace, reused)');
  metrics.describe(METRIC.wsTotal, 'WebSocket connections relayed since start');
  const keys = deps.keys ?? (await createKeyRing(clock, config.signingKeys));
  const tokens = createTokens(keys, config.issuer, clock);
  const limits = createLimits({ limits: config.limits, factory: deps.rateLimiters, store, clock, logger });
  const credentials = createCredentials({ config, store, tokens, clock, metrics, logger, limits });
  const authenticator = createAuthenticator({ config, store, tokens, credentials, daytona: deps.daytona, clock });
  // Demo without a secret: a random one for this process (sessions come from /api/demo/session).
  const userSecret = config.userJwtSecret ?? (config.userJwksUrl ? null : randomToken(32));
  const users = createUserSessionVerifier({
    secret: userSecret,
    jwksUrl: config.userJwksUrl,
    issuer: config.userIssuer,
    audience: config.userAudience,
    clock,
    demo: config.demo,
  });

  const identityCache = new Map<string, { token: string; renewAt: number }>();
  /** The cached assertion as it is (no promise, the usual case); a new one is signed (a promise). */
  const identity = (p: Principal, origin: string): string | null | Promise<string | null> => {
    if (p.kind === 'public') return null;
    const key = `${p.kind}|${p.sessionId}|${p.userId}|${origin}`;
    const now = clock();
    const hit = identityCache.get(key);
    if (hit && hit.renewAt > now) return hit.token;
    return signIdentity(p, origin, key, now);
  };
  const signIdentity = async (p: Principal, origin: string, key: string, now: number): Promise<string> => {
    const token = await tokens.signIdentity({ aud: origin, sub: p.userId, sid: p.sessionId, knd: p.kind }, config.identityTtlMs);
    // Insertion order is renewal order (every entry lives the same time, re-set entries move to
    // the end): drop the stale ones from the front, so the cache holds the sessions of the last
    // half-lifetime, not up to 10 000 ended ones (README "Reliability and security", the soak).
    for (const [k, v] of identityCache) {
      if (v.renewAt > now && identityCache.size <= 10_000) break;
      identityCache.delete(k);
    }
    identityCache.delete(key);
    identityCache.set(key, { token, renewAt: now + config.identityTtlMs / 2 });
    return token;
  };

  const x: GatewayContext = {
    config,
    store,
    keys,
    tokens,
    credentials,
    authenticator,
    limits,
    users,
    policy:
      deps.policy ??
      (config.policyUrl
        ? createHttpPolicy({ url: config.policyUrl, token: config.policyToken, cacheSeconds: config.policyCacheSeconds, clock, logger })
        : labelPolicy),
    daytona: deps.daytona,
    upstream: deps.upstream,
    metrics,
    logger,
    clock,
    assets: deps.assets,
    identity,
  };

  // A classification depends on the host text alone: the hosts in use are remembered (bounded,
  // emptied when full so made-up names cannot keep the real ones out; unknown hosts never are).
  const knownHosts = new Map<string, HostKind>();
  const classify = (host: string): HostKind => {
    let kind = knownHosts.get(host);
    if (kind === undefined) {
      kind = classifyHost(config, host);
      if (kind.kind !== 'unknown') {
        if (knownHosts.size >= 1000) knownHosts.clear();
        knownHosts.set(host, kind);
      }
    }
    return kind;
  };
  const app: GateApp = new Hono<GateEnv>({
    getPath: (req) => {
      // `handle` classified the request already (it always has, unless the app is called directly).
      let kind = rememberedHost(req)?.kind;
      if (kind === undefined) {
        const url = new URL(req.url);
        kind = classify(url.host);
        rememberHost(req, kind, url);
      }
      const prefix = kind.kind === 'gateway' ? GW : kind.kind === 'preview' ? PV : XX;
      return prefix + getPath(req);
    },
  });

  // The label sets of the per-request metrics: 3 host kinds x 5 status classes, made once.
  const labelSets = new Map<string, { count: Readonly<Record<string, string>>; duration: Readonly<Record<string, string>> }>();
  const requestLabels = (kind: string, status: number) => {
    const cls = `${Math.floor(status / 100)}xx`;
    const key = `${kind} ${cls}`;
    let set = labelSets.get(key);
    if (set === undefined) {
      set = { count: fixedLabels({ host: kind, class: cls }), duration: fixedLabels({ host: kind }) };
      if (labelSets.size < 100) labelSets.set(key, set);
    }
    return set;
  };

  /** Pending Set-Cookies on the answer (a rotated refresh credential must reach the browser even when the upstream then fails). */
  const markCookies = (s: RequestScope, res: Response): Response => {
    const cookies = s.get('setCookies');
    if (!cookies?.length) return res;
    // An answer that carries a freshly rotated credential must never sit in a shared cache,
    // whatever the app said about its own body (RFC 9111 §5.2.2.5).
    const mark = (headers: Headers) => {
      for (const v of cookies) headers.append('set-cookie', v);
      headers.set('cache-control', 'private, no-store');
    };
    try {
      mark(res.headers);
      return res;
    } catch {
      const copy = new Response(res.body, res);
      mark(copy.headers);
      return copy;
    }
  };
  /** The metrics and the log line of a finished request. */
  const recordRequest = (s: RequestScope, kind: string, status: number, start: number) => {
    const ms = performance.now() - start;
    const labels = requestLabels(kind, status);
    metrics.inc(METRIC.requests, labels.count);
    metrics.observe(METRIC.duration, ms / 1000, labels.duration);
    if (!logRequests && status < 500) return; // GATE_LOG=off: not even the line's fields are built
    logRequest(logger, s, status, ms);
  };
  /** The coded answer of a refusal or a failure (the one error model: http/respond.ts). */
  const errorAnswer = (err: Error, s: RequestScope): Response => {
    const code = err instanceof GateError ? err.code : 'internal';
    s.set('code', code);
    if (err instanceof GateError) s.set('reason', err.message);
    if (!(err instanceof GateError)) requestLog(logger, s).error('unhandled', { error: err?.name, message: redact(String(err?.message ?? '')) });
    const res = errorResponse(err, s.req.raw, config.allowedOrigins, config.pages);
    // A page of another port of this sandbox reads the code (several-port grants, tokens/sibling-origins.ts).
    const h = (() => {
      try {
        return hostOf(s.req.raw);
      } catch {
        return null;
      }
    })();
    for (const [k, v] of Object.entries(siblingErrorCors(config, s.req.raw, h?.kind === 'preview' ? h : null))) res.headers.set(k, v);
    return res;
  };

  registerRequestId(app);
  // One log line and the metrics per request; pending Set-Cookies on EVERY answer.
  app.use('*', async (c, next) => {
    const start = performance.now();
    await next();
    const marked = markCookies(c, c.res);
    if (marked !== c.res) c.res = marked; // Hono's setter copies whatever it is given: only when needed
    const kind = c.req.routePath.startsWith(PV) ? 'preview' : c.req.routePath.startsWith(GW) ? 'gateway' : 'unknown';
    recordRequest(c, kind, c.res.status, start);
  });

  app.onError((err, c) => errorAnswer(err, c));
  app.notFound((c) => errorResponse(new GateError('not_found', 'Not found.'), c.req.raw, config.allowedOrigins, config.pages));

  // Every route, in the one order that works. Hono runs the handlers whose pattern matches in
  // the order they were registered, and the first answer wins, so the order is part of the
  // security: each catch-all must come after what it would otherwise swallow, and the preview
  // guard before anything on a preview origin. The host-kind prefixes (getPath above) keep the
  // three groups apart.
  // 1. Unknown hosts: a coded refusal, nothing else.
  app.all(`${XX}/*`, (c) => {
    const h = classifyHost(config, urlOf(c.req.raw).host);
    throw h.kind === 'unknown' ? h.error : new GateError('not_found', 'Not found.');
  });
  const readiness = deps.readiness ?? createReadiness({ probes: defaultProbes(store, deps.daytona), clock });
  // Readiness for load balancers, beside /healthz (liveness, broker-api.ts); a status
  // document rather than the error model: the reason is for the operator, never a secret.
  app.get(`${GW}/readyz`, async (c) => {
    const report = await readiness.report();
    c.header('cache-control', 'no-store');
    return c.json(report, report.status === 'ready' ? 200 : 503);
  });
  registerOpsRoutes(app, x, deps.version);
  registerOriginDiagnosis(app, x);
  registerBulkEnd(app, x);
  // 2. The gateway's own origin: the broker API, JWKS, /healthz, /metrics, /embed.js; then
  //    its catch-all (after them, or it would answer every path 404).
  registerBrokerRoutes(app, x);
  app.all(`${GW}/*`, () => {
    throw new GateError('not_found', 'No such gateway endpoint.');
  });
  // 3. Preview origins. The guard middleware first: a reserved or disallowed port is refused
  //    (and a CORS preflight answered) for every path, /__gate/ included, before any Daytona
  //    call. Then /__gate/* (ending in its own catch-all: the reserved prefix never reaches the
  //    app), and only then the proxy's catch-all, which forwards everything else.
  registerPreviewGuards(app, x);
  registerGatePaths(app, x);
  registerProxy(app, x);

  /** Whether a request of this host kind for `url` takes the direct path: an app's path on a preview origin. */
  const isDirect = (kind: HostKind, url: URL): boolean => kind.kind === 'preview' && !isReservedPath(url.pathname);

  /**
   * The direct path: a request for an app on a preview origin (not /__gate/) skips Hono's router
   * and goes through the same steps its routes take, in the same order (request id, the
   * per-request bookkeeping, the preview guard, the proxy, the error answer): Hono's routing,
   * context and middleware chain were ~5% of a small proxied request (docs/benchmarks.md,
   * "Round 5"). Everything else (the gateway's own origin, /__gate/, unknown hosts) goes to Hono.
   * `directStats.requests` counts the requests taken this way (test/gateway/hot-path.test.ts).
   */
  const handle = async (request: Request, env?: unknown, parsed?: URL): Promise<Response> => {
    // `parsed`: the edge's own parse of request.url (broker/node/direct-lane.ts).
    let url = parsed;
    if (url === undefined) {
      try {
        url = new URL(request.url);
      } catch {
        return app.fetch(request, env);
      }
    }
    const kind = classify(url.host);
    rememberHost(request, kind, url); // read by Hono's getPath too, when the request goes there
    if (!isDirect(kind, url)) return app.fetch(request, env);
    directStats.requests++;
    const s = new DirectScope(request, env);
    const start = performance.now();
    const id = startRequest(s);
    let res: Response;
    try {
      res = previewGuard(x, s) ?? (await proxyPreview(x, s));
    } catch (err) {
      res = errorAnswer(err instanceof Error ? err : new Error(String(err)), s);
    }
    res = markCookies(s, res);
    recordRequest(s, 'preview', res.status, start);
    return withHeader(res, REQUEST_ID_HEADER, id);
  };

  return {
    app,
    fetch: (request) => handle(request),
    handle,
    takesDirectPath: (url) => isDirect(classify(url.host), url),
    authorizeUpgrade: createUpgradeAuthorizer(x),
    rotateKeys: async () => {
      const kid = await keys.rotate();
      logger.info('keys_rotated', { kid });
      return kid;
    },
    jwks: () => keys.jwks() as { keys: Record<string, unknown>[] },
    previewOrigin: (t) => previewOrigin(config, t),
    config,
    metrics,
    store,
    logger,
    readiness,
    close: async () => {
      if (!deps.store) await store.close();
    },
  };
}
