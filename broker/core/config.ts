/**
 * The gateway's configuration: every option with its default, validated once by
 * `resolveConfig` when `createGateway` runs. A mistake throws a `TypeError` whose message names
 * the option (and the environment variable of broker/node/config-env.ts) to set.
 *
 * Longer than the ~300 lines a file should keep to, on purpose: every option's documentation,
 * default and range sit here in one place (as jose keeps each option's default in its JSDoc),
 * so an operator and a reviewer read one file. Option groups with their own logic live beside
 * it (limits/config.ts).
 */
import { DAYTONA_RESERVED_PORTS } from '../../protocol/index.js';
import { resolveLimits, type LimitsConfig, type ResolvedLimits } from './limits/config.js';
import { resolvePages, type PageOptions, type ResolvedPages } from './page-config.js';

export interface GatewayConfig extends PageOptions {
  /** Preview origins are `{port}-{sandboxId}.{previewDomain}`. Default `preview.localhost` (GATE_PREVIEW_DOMAIN). */
  previewDomain?: string;
  /** Scheme of the public URLs the gateway hands out. Default `http` (GATE_PUBLIC_SCHEME). */
  publicScheme?: 'http' | 'https';
  /**
   * Port in the public URLs (preview origins, share links). Default: none (the scheme's default
   * port). The Node entry defaults it to the listening port (GATE_PUBLIC_PORT, empty = none).
   */
  publicPort?: number | null;
  /** `iss` of every token the gateway signs. Default `preview-gate`. */
  issuer?: string;
  /**
   * Hosts (with port when not default) answered as the gateway's own origin (broker API, JWKS).
   * Default: every host that is not under `previewDomain`. When set, other hosts get a 404.
   */
  gatewayHosts?: string[];

  /** HS256 secret of the host app's user-session JWTs (GATE_USER_JWT_SECRET). At least 32 characters. */
  userJwtSecret?: string;
  /** Or: JWKS URL of the host app's identity provider (GATE_USER_JWKS_URL). */
  userJwksUrl?: string;
  /** Required `iss` of user-session JWTs (GATE_USER_ISSUER). Default: not checked. */
  userIssuer?: string;
  /** Required `aud` of user-session JWTs (GATE_USER_AUDIENCE). Default: not checked. */
  userAudience?: string;

  /**
   * Demo mode (GATE_DEMO=true): enables `POST /api/demo/session` (an unauthenticated user-session
   * issuer: NEVER in production), and a generated user secret when none is set. Default false.
   */
  demo?: boolean;

  /** Access-token lifetime in seconds (GATE_ACCESS_TTL). Default 300; 30..3600. */
  accessTtlSeconds?: number;
  /** Absolute lifetime of a preview session's refresh credential in seconds (GATE_REFRESH_TTL). Default 43200 (12 h); 60..2592000. */
  refreshTtlSeconds?: number;
  /**
   * Seconds during which re-presenting a just-rotated refresh credential returns the same
   * successor instead of being treated as theft (a page loading 20 subresources with an expired
   * cookie sends the same refresh cookie 20 times at once). Default 20; 0..120.
   */
  refreshGraceSeconds?: number;
  /** Launch-code lifetime in seconds. Default 60; 5..60. */
  launchCodeTtlSeconds?: number;
  /** WebSocket-ticket lifetime in seconds. Default 30; 5..30. */
  wsTicketTtlSeconds?: number;
  /** Identity-assertion lifetime in seconds. Default 60. */
  identityTtlSeconds?: number;
  /** Share-link TTL bounds in seconds. Default 60 .. 2592000 (30 days). */
  shareTtlMinSeconds?: number;
  shareTtlMaxSeconds?: number;

  /** Sandbox ports that may be previewed (GATE_ALLOWED_PORTS, comma list). Default: every port but Daytona's reserved ones. */
  allowedPorts?: number[] | null;
  /** Origins of host-app pages allowed to call the broker API cross-origin (GATE_ALLOWED_ORIGINS). Default none; `*` for any. In demo mode default `*`. */
  allowedOrigins?: string[];
  /** Pass to the upstream: start a stopped sandbox on authorised access (GATE_AUTO_START). Default false. */
  autoStart?: boolean;
  /** Let anyone reach a sandbox its owner made public in Daytona (no credential). Default true. */
  allowPublicSandboxes?: boolean;
  /**
   * Which traffic through the gateway refreshes a sandbox's last activity at Daytona
   * (GATE_ACTIVITY_UPDATES): `requests` (default; WebSockets and event streams do not, so an idle
   * tab cannot keep a sandbox awake forever), `all`, or `never`. See docs/daytona.md.
   */
  activityUpdates?: 'all' | 'requests' | 'never';
  /**
   * Present the known dev servers' dev endpoints (Next.js HMR and overlay, Streamlit's stream,
   * Jupyter's kernels and API) with the app's own `Origin: http://localhost:{port}` when the
   * browser's Origin is the verified preview origin, so they work with zero configuration
   * (GATE_DEV_SERVER_ORIGIN). Default true. See broker/core/upstream/dev-origin.ts.
   */
  devServerOrigin?: boolean;
  /**
   * Signing keys as a JWK set (GATE_SIGNING_KEYS): `{"keys":[{kty:"EC",crv:"P-256",d,x,y,kid}...]}`,
   * the FIRST key signs, all verify. Default: one ES256 key generated at start (tokens do not
   * survive a restart; give a set, or `redisUrl` + `keysSecret` for keys shared through Redis, to run
   * several instances or survive restarts).
   */
  signingKeys?: { keys: Record<string, unknown>[] } | null;
  /** Max size of a broker-API JSON body in bytes. Default 16384. */
  maxApiBodyBytes?: number;
  /**
   * Rate limits per user and per client address, and caps on live sessions / share links per
   * user (GATE_RATE_LIMITS, GATE_MAX_SESSIONS_PER_USER, GATE_MAX_SHARES_PER_USER; defaults in
   * broker/core/limits/config.ts and docs/interface.md). `rateLimits: false` turns rate limits off.
   */
  limits?: LimitsConfig;
  /**
   * Addresses or CIDRs of reverse proxies whose `X-Forwarded-For` is believed (GATE_TRUSTED_PROXIES).
   * Default none: the client address is the socket's peer.
   */
  trustedProxies?: string[];

  // Upstream tunables (the Node edge passes them to broker/core/upstream and broker/node/).
  /**
   * Largest request body kept in memory so a request can be repeated once when Daytona rejects a
   * rotated token (GATE_UPSTREAM_REPLAY_LIMIT, bytes). Larger bodies stream unbuffered (and, on
   * the Node edge, are piped socket to socket). Default 1048576 (1 MiB); 0..67108864.
   */
  upstreamReplayLimitBytes?: number;
  /** How long a Daytona preview link (`{url, token}`) is cached (GATE_LINK_CACHE_TTL, seconds). Default 600; 1..86400. */
  linkCacheTtlSeconds?: number;
  /** Time allowed to open a TCP (and TLS) connection to Daytona (GATE_UPSTREAM_CONNECT_TIMEOUT_MS). Default 10000; 100..120000. */
  upstreamConnectTimeoutMs?: number;
  /** Time from the end of a request to Daytona's response headers (GATE_UPSTREAM_RESPONSE_TIMEOUT_MS). Default 300000; 1000..3600000. */
  upstreamResponseTimeoutMs?: number;
  /** Time allowed for Daytona to answer a WebSocket upgrade (GATE_UPGRADE_TIMEOUT_MS). Default 15000; 100..300000. */
  upgradeTimeoutMs?: number;
  /**
   * Shared store (GATE_REDIS_URL): `redis://[user:pass@]host:port[/db]` or `rediss://` (TLS).
   * Unset: the in-memory store of one process. With it, every instance of the fleet shares
   * sessions, refresh chains, codes, tickets, shares and revocations (docs/interface.md).
   */
  redisUrl?: string;
  /** Prefix of every Redis key and channel (GATE_REDIS_PREFIX). Default `preview-gate:`. */
  redisPrefix?: string;
  /** Longest wait for one Redis command, ms (GATE_REDIS_COMMAND_TIMEOUT_MS). Default 1000; 50..30000. */
  redisCommandTimeoutMs?: number;
  /**
   * Secret that seals the fleet's private signing keys at rest in Redis (GATE_KEYS_SECRET), at
   * least 32 characters, the same on every instance. Required with `redisUrl` unless
   * `signingKeys` is given.
   */
  keysSecret?: string;
  /** Seconds a client has to send a request's whole head (GATE_HEADERS_TIMEOUT; slowloris). Default 15; 1..300. */
  headersTimeoutSeconds?: number;
  /** Seconds a request body may stop moving before the request is cut with 408 (GATE_BODY_IDLE_TIMEOUT). Default 30; 1..3600. */
  bodyIdleTimeoutSeconds?: number;
  /** Seconds an idle keep-alive connection stays open between requests (GATE_KEEPALIVE_TIMEOUT). Default 5; 1..600. */
  keepAliveTimeoutSeconds?: number;

  /**
   * /metrics access (GATE_METRICS_TOKEN): a string (at least 16 characters) requires
   * `Authorization: Bearer <token>`; `null` closes /metrics (404). Not given: open, the
   * library default for in-process use; the Node entry from the environment (configFromEnv)
   * passes `null` unless GATE_METRICS_TOKEN is set, so a deployed gateway is closed by default.
   */
  metricsToken?: string | null;

  /**
   * The host app's authorisation endpoint (GATE_POLICY_URL), asked "may user U see sandbox S
   * port P?" before every launch and share (broker/core/auth/policy-url.ts). Replaces the
   * label policy when set. Default: none (the `preview-gate.users` label decides).
   */
  policyUrl?: string;
  /** Bearer token the gateway sends to the policy endpoint (GATE_POLICY_TOKEN). Default none. */
  policyToken?: string;
  /** Seconds a policy answer is reused when it names no ttlSeconds (GATE_POLICY_CACHE_SECONDS). Default 10; 0..300. */
  policyCacheSeconds?: number;
  /**
   * Service credential of the host app's backend (GATE_SERVICE_TOKEN), for ending every preview
   * session of a user or a sandbox (DELETE /api/previews?userId= / ?sandboxId=). At least 32
   * characters. Default none (users can still end their own).
   */
  serviceToken?: string;
}

export interface ResolvedConfig {
  previewDomain: string;
  publicScheme: 'http' | 'https';
  publicPort: number | null;
  issuer: string;
  gatewayHosts: string[] | null;
  userJwtSecret: string | null;
  userJwksUrl: string | null;
  userIssuer: string | null;
  userAudience: string | null;
  demo: boolean;
  accessTtlMs: number;
  refreshTtlMs: number;
  refreshGraceMs: number;
  launchCodeTtlMs: number;
  wsTicketTtlMs: number;
  identityTtlMs: number;
  shareTtlMinSeconds: number;
  shareTtlMaxSeconds: number;
  allowedPorts: Set<number> | null;
  allowedOrigins: string[];
  autoStart: boolean;
  allowPublicSandboxes: boolean;
  activityUpdates: 'all' | 'requests' | 'never';
  devServerOrigin: boolean;
  signingKeys: { keys: Record<string, unknown>[] } | null;
  maxApiBodyBytes: number;
  upstreamReplayLimitBytes: number;
  linkCacheTtlMs: number;
  upstreamConnectTimeoutMs: number;
  upstreamResponseTimeoutMs: number;
  upgradeTimeoutMs: number;
  /** Marks a configuration `resolveConfig` made: createGateway takes it as it is (resolved once). */
  readonly resolved: true;
  limits: ResolvedLimits;
  trustedProxies: string[];
  /** Null: the in-memory store. */
  redis: { url: string; prefix: string; commandTimeoutMs: number } | null;
  keysSecret: string | null;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  metricsAccess: 'open' | 'closed' | 'token';
  metricsToken: string | null;
  policyUrl: string | null;
  policyToken: string | null;
  policyCacheSeconds: number;
  serviceToken: string | null;
  /** Product name, logo and host-app URL of the gateway's pages (page-config.ts). */
  pages: ResolvedPages;
}

function intIn(name: string, env: string, value: number | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`preview-gate config: ${name}${env ? ` (${env})` : ''} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * Applies every default once and validates; throws a TypeError that says what to set. Call it
 * once and pass the result on (createGateway accepts a resolved configuration as it is).
 */
function httpUrl(name: string, env: string, value: string | undefined): string | null {
  if (!value) return null;
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {
    /* fall through */
  }
  throw new TypeError(`preview-gate config: ${name} (${env}) must be an http(s) URL; got "${value}"`);
}

function secretOf(name: string, env: string, value: string | undefined, min: number): string | null {
  if (!value) return null;
  if (value.length < min || /\s/.test(value))
    throw new TypeError(`preview-gate config: ${name} (${env}) must be at least ${min} characters without spaces, e.g. \`openssl rand -hex 32\``);
  return value;
}

function metricsAccessOf(token: string | null | undefined): Pick<ResolvedConfig, 'metricsAccess' | 'metricsToken'> {
  if (token === undefined) return { metricsAccess: 'open', metricsToken: null };
  if (token === null) return { metricsAccess: 'closed', metricsToken: null };
  if (typeof token !== 'string' || token.length < 16 || /\s/.test(token)) {
    throw new TypeError('preview-gate config: metricsToken (GATE_METRICS_TOKEN) must be at least 16 characters without spaces, e.g. `openssl rand -hex 24`');
  }
  return { metricsAccess: 'token', metricsToken: token };
}

/** Applies every default once and validates; throws a TypeError that says what to set. */
export function resolveConfig(config: GatewayConfig): ResolvedConfig {
  const previewDomain = (config.previewDomain ?? 'preview.localhost').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(previewDomain)) {
    throw new TypeError(
      `preview-gate config: previewDomain (GATE_PREVIEW_DOMAIN) must be a DNS name with at least two labels, e.g. preview.localhost; got "${previewDomain}"`,
    );
  }
  const publicScheme = config.publicScheme ?? 'http';
  if (publicScheme !== 'http' && publicScheme !== 'https') {
    throw new TypeError(`preview-gate config: publicScheme (GATE_PUBLIC_SCHEME) must be http or https`);
  }
  const publicPort = config.publicPort == null ? null : intIn('publicPort', 'GATE_PUBLIC_PORT', config.publicPort, 0, 1, 65535);
  const demo = config.demo === true;
  const userJwtSecret = config.userJwtSecret || null;
  const userJwksUrl = config.userJwksUrl || null;
  if (!userJwtSecret && !userJwksUrl && !demo) {
    throw new TypeError(
      "preview-gate config: no way to verify user sessions. Set GATE_USER_JWT_SECRET (the HS256 secret of the host app's session JWTs, userJwtSecret) or GATE_USER_JWKS_URL (its identity provider's JWKS, userJwksUrl); or GATE_DEMO=true for the local demo only.",
    );
  }
  if (userJwtSecret && userJwksUrl) {
    throw new TypeError('preview-gate config: set only one of GATE_USER_JWT_SECRET (userJwtSecret) and GATE_USER_JWKS_URL (userJwksUrl)');
  }
  if (userJwtSecret && userJwtSecret.length < 32) {
    throw new TypeError(
      'preview-gate config: GATE_USER_JWT_SECRET (userJwtSecret) must be at least 32 characters (RFC 7518 §3.2: an HS256 key of at least 256 bits)',
    );
  }
  if (userJwksUrl) {
    try {
      const u = new URL(userJwksUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
    } catch {
      throw new TypeError(`preview-gate config: GATE_USER_JWKS_URL (userJwksUrl) must be an http(s) URL; got "${userJwksUrl}"`);
    }
  }
  const allowedPorts = config.allowedPorts == null ? null : new Set<number>();
  for (const p of config.allowedPorts ?? []) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      throw new TypeError(`preview-gate config: allowedPorts (GATE_ALLOWED_PORTS) must be ports 1..65535; got ${String(p)}`);
    }
    if (DAYTONA_RESERVED_PORTS.includes(p)) {
      throw new TypeError(`preview-gate config: allowedPorts (GATE_ALLOWED_PORTS) may not hold Daytona's reserved port ${p}`);
    }
    allowedPorts!.add(p);
  }
  const allowedOrigins = config.allowedOrigins ?? (demo ? ['*'] : []);
  for (const o of allowedOrigins) {
    if (o === '*') continue;
    let ok = false;
    try {
      ok = new URL(o).origin === o;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new TypeError(
        `preview-gate config: allowedOrigins (GATE_ALLOWED_ORIGINS) entries must be origins like https://ide.example.com (no path, no trailing slash) or *; got "${o}"`,
      );
  }
  const keys = config.signingKeys ?? null;
  if (keys && (!Array.isArray(keys.keys) || keys.keys.length === 0)) {
    throw new TypeError('preview-gate config: signingKeys (GATE_SIGNING_KEYS) must be a JWK set {"keys":[...]} with at least one EC P-256 private key');
  }
  const redis = resolveRedis(config, keys);
  const shareTtlMinSeconds = intIn('shareTtlMinSeconds', '', config.shareTtlMinSeconds, 60, 1, 86400);
  const shareTtlMaxSeconds = intIn('shareTtlMaxSeconds', '', config.shareTtlMaxSeconds, 30 * 86400, shareTtlMinSeconds, 365 * 86400);
  return {
    previewDomain,
    publicScheme,
    publicPort,
    issuer: config.issuer ?? 'preview-gate',
    gatewayHosts: config.gatewayHosts ? config.gatewayHosts.map((h) => h.toLowerCase()) : null,
    userJwtSecret,
    userJwksUrl,
    userIssuer: config.userIssuer || null,
    userAudience: config.userAudience || null,
    demo,
    accessTtlMs: intIn('accessTtlSeconds', 'GATE_ACCESS_TTL', config.accessTtlSeconds, 300, 30, 3600) * 1000,
    refreshTtlMs: intIn('refreshTtlSeconds', 'GATE_REFRESH_TTL', config.refreshTtlSeconds, 43200, 60, 30 * 86400) * 1000,
    refreshGraceMs: intIn('refreshGraceSeconds', '', config.refreshGraceSeconds, 20, 0, 120) * 1000,
    launchCodeTtlMs: intIn('launchCodeTtlSeconds', '', config.launchCodeTtlSeconds, 60, 5, 60) * 1000,
    wsTicketTtlMs: intIn('wsTicketTtlSeconds', '', config.wsTicketTtlSeconds, 30, 5, 30) * 1000,
    identityTtlMs: intIn('identityTtlSeconds', '', config.identityTtlSeconds, 60, 10, 600) * 1000,
    shareTtlMinSeconds,
    shareTtlMaxSeconds,
    allowedPorts,
    allowedOrigins,
    autoStart: config.autoStart === true,
    allowPublicSandboxes: config.allowPublicSandboxes !== false,
    activityUpdates: activityUpdatesOf(config.activityUpdates),
    devServerOrigin: config.devServerOrigin !== false,
    signingKeys: keys,
    maxApiBodyBytes: intIn('maxApiBodyBytes', '', config.maxApiBodyBytes, 16384, 1024, 1 << 20),
    upstreamReplayLimitBytes: intIn('upstreamReplayLimitBytes', 'GATE_UPSTREAM_REPLAY_LIMIT', config.upstreamReplayLimitBytes, 1 << 20, 0, 64 << 20),
    linkCacheTtlMs: intIn('linkCacheTtlSeconds', 'GATE_LINK_CACHE_TTL', config.linkCacheTtlSeconds, 600, 1, 86400) * 1000,
    upstreamConnectTimeoutMs: intIn('upstreamConnectTimeoutMs', 'GATE_UPSTREAM_CONNECT_TIMEOUT_MS', config.upstreamConnectTimeoutMs, 10_000, 100, 120_000),
    upstreamResponseTimeoutMs: intIn(
      'upstreamResponseTimeoutMs',
      'GATE_UPSTREAM_RESPONSE_TIMEOUT_MS',
      config.upstreamResponseTimeoutMs,
      300_000,
      1000,
      3_600_000,
    ),
    upgradeTimeoutMs: intIn('upgradeTimeoutMs', 'GATE_UPGRADE_TIMEOUT_MS', config.upgradeTimeoutMs, 15_000, 100, 300_000),
    resolved: true,
    limits: resolveLimits(config.limits),
    trustedProxies: resolveTrustedProxies(config.trustedProxies),
    redis,
    keysSecret: redis ? config.keysSecret || null : null,
    headersTimeoutMs: intIn('headersTimeoutSeconds', 'GATE_HEADERS_TIMEOUT', config.headersTimeoutSeconds, 15, 1, 300) * 1000,
    bodyIdleTimeoutMs: intIn('bodyIdleTimeoutSeconds', 'GATE_BODY_IDLE_TIMEOUT', config.bodyIdleTimeoutSeconds, 30, 1, 3600) * 1000,
    keepAliveTimeoutMs: intIn('keepAliveTimeoutSeconds', 'GATE_KEEPALIVE_TIMEOUT', config.keepAliveTimeoutSeconds, 5, 1, 600) * 1000,
    ...metricsAccessOf(config.metricsToken),
    policyUrl: httpUrl('policyUrl', 'GATE_POLICY_URL', config.policyUrl),
    policyToken: config.policyToken || null,
    policyCacheSeconds: intIn('policyCacheSeconds', 'GATE_POLICY_CACHE_SECONDS', config.policyCacheSeconds, 10, 0, 300),
    serviceToken: secretOf('serviceToken', 'GATE_SERVICE_TOKEN', config.serviceToken, 32),
    pages: resolvePages(config),
  };
}

/** IPv4/IPv6 addresses or CIDRs; checked for shape here, matched in broker/node/client-address.ts. */
function resolveTrustedProxies(list: string[] | undefined): string[] {
  const out: string[] = [];
  for (const raw of list ?? []) {
    const entry = raw.trim().toLowerCase();
    const [addr, bits, extra] = entry.split('/');
    const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(addr ?? '') && addr!.split('.').every((o) => Number(o) <= 255);
    const v6 = !v4 && /^[0-9a-f:.]+$/.test(addr ?? '') && (addr ?? '').includes(':');
    const max = v4 ? 32 : 128;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if ((!v4 && !v6) || !okBits || extra !== undefined) {
      throw new TypeError(
        `preview-gate config: trustedProxies (GATE_TRUSTED_PROXIES) entries must be IP addresses or CIDRs like 10.0.0.0/8 or ::1; got "${raw}"`,
      );
    }
    out.push(entry);
  }
  return out;
}

/** GATE_REDIS_URL and its companions; throws naming the variable to fix. */
function resolveRedis(config: GatewayConfig, signingKeys: unknown): ResolvedConfig['redis'] {
  const url = config.redisUrl?.trim();
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('preview-gate config: GATE_REDIS_URL (redisUrl) must be a URL like redis://host:6379 or rediss://user:password@host:6380/0');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TypeError(`preview-gate config: GATE_REDIS_URL (redisUrl) must start with redis:// or rediss:// (TLS); got "${u.protocol}"`);
  }
  const prefix = config.redisPrefix ?? 'preview-gate:';
  if (!/^[\x21-\x7e]{1,64}$/.test(prefix)) {
    throw new TypeError('preview-gate config: GATE_REDIS_PREFIX (redisPrefix) must be 1 to 64 printable characters without spaces');
  }
  if (!signingKeys) {
    if (!config.keysSecret) {
      throw new TypeError(
        'preview-gate config: with GATE_REDIS_URL and no GATE_SIGNING_KEYS the instances share signing keys through Redis, sealed with GATE_KEYS_SECRET (keysSecret): set it to the same random string of at least 32 characters on every instance',
      );
    }
    if (config.keysSecret.length < 32) {
      throw new TypeError(
        'preview-gate config: GATE_KEYS_SECRET (keysSecret) must be at least 32 characters (it seals the private signing keys kept in Redis)',
      );
    }
  }
  return { url, prefix, commandTimeoutMs: intIn('redisCommandTimeoutMs', 'GATE_REDIS_COMMAND_TIMEOUT_MS', config.redisCommandTimeoutMs, 1000, 50, 30_000) };
}

function activityUpdatesOf(value: GatewayConfig['activityUpdates']): 'all' | 'requests' | 'never' {
  const v = value ?? 'requests';
  if (v !== 'all' && v !== 'requests' && v !== 'never') {
    throw new TypeError(`preview-gate config: activityUpdates (GATE_ACTIVITY_UPDATES) must be all, requests or never; got "${String(value)}"`);
  }
  return v;
}
