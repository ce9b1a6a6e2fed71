/**
 * The gateway's configuration from the environment (see docs/interface.md, "Extensions").
 * Every variable is read here, once; a malformed value throws with the variable's name.
 */
import type { GatewayConfig } from '../core/config.js';
import { parseRateLimitsEnv, type LimitsConfig } from '../core/limits/config.js';
import { LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { DEFAULT_HEADROOM_MB } from './v8-heap.js';

export interface EnvConfig {
  config: GatewayConfig;
  /** GATE_PORT, default 8787. */
  port: number;
  /** GATE_HOST, default 127.0.0.1. */
  host: string;
  /** DAYTONA_API_URL / DAYTONA_API_KEY / DAYTONA_TARGET (unset: the SDK's own defaults). */
  daytonaApi: { apiUrl?: string; apiKey?: string; target?: string };
  /** GATE_LOG: `json` (default) one JSON line per event on stdout, `off` nothing. */
  log: 'json' | 'off';
  /** GATE_DRAIN_SECONDS: how long a SIGTERM/SIGINT lets requests in flight finish. Default 25. */
  drainSeconds: number;
  /** GATE_LOG_LEVEL: debug, info (default), warn or error; lines below it are dropped. */
  logLevel: LogLevel;
  /** GATE_HEAP_HEADROOM_MB: V8's old-generation headroom while bodies stream (v8-heap.ts), 0..1024; 0 = off. Default 64. */
  heapHeadroomMb: number;
}

function int(env: NodeJS.ProcessEnv, name: string, def: number | undefined): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  if (!/^\d+$/.test(v.trim())) throw new TypeError(`preview-gate config: ${name} must be a whole number, got "${v}"`);
  return Number(v.trim());
}

/** `{ [key]: n }` when the variable is set (a whole number), else nothing: the default applies in config.ts. */
function optionalInt<K extends keyof GatewayConfig>(env: NodeJS.ProcessEnv, name: string, key: K): Partial<Record<K, number>> {
  const n = int(env, name, undefined);
  return n === undefined ? {} : ({ [key]: n } as Partial<Record<K, number>>);
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new TypeError(`preview-gate config: ${name} must be true or false, got "${env[name]}"`);
}

function list(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** GATE_HEADERS_TIMEOUT, GATE_BODY_IDLE_TIMEOUT, GATE_KEEPALIVE_TIMEOUT (seconds; config.ts validates the ranges). */
function timeoutsFromEnv(env: NodeJS.ProcessEnv): Partial<GatewayConfig> {
  const out: Partial<GatewayConfig> = {};
  const headers = int(env, 'GATE_HEADERS_TIMEOUT', undefined);
  const bodyIdle = int(env, 'GATE_BODY_IDLE_TIMEOUT', undefined);
  const keepAlive = int(env, 'GATE_KEEPALIVE_TIMEOUT', undefined);
  if (headers !== undefined) out.headersTimeoutSeconds = headers;
  if (bodyIdle !== undefined) out.bodyIdleTimeoutSeconds = bodyIdle;
  if (keepAlive !== undefined) out.keepAliveTimeoutSeconds = keepAlive;
  return out;
}

/**
 * @example
 * const { config, port } = configFromEnv({ GATE_USER_JWT_SECRET: 'x'.repeat(32) });
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const port = int(env, 'GATE_PORT', 8787)!;
  if (port > 65535) throw new TypeError('preview-gate config: GATE_PORT must be 0..65535');
  const scheme = env.GATE_PUBLIC_SCHEME?.trim() || 'http';
  if (scheme !== 'http' && scheme !== 'https') throw new TypeError(`preview-gate config: GATE_PUBLIC_SCHEME must be http or https, got "${scheme}"`);
  // GATE_PUBLIC_PORT unset: the listening port; set but empty: the scheme's default port.
  const publicPort = env.GATE_PUBLIC_PORT === undefined ? undefined : env.GATE_PUBLIC_PORT.trim() === '' ? null : int(env, 'GATE_PUBLIC_PORT', undefined)!;
  const ports = list(env, 'GATE_ALLOWED_PORTS')?.map((p) => {
    if (!/^\d+$/.test(p)) throw new TypeError(`preview-gate config: GATE_ALLOWED_PORTS must be a comma list of ports, got "${p}"`);
    return Number(p);
  });
  let signingKeys: GatewayConfig['signingKeys'];
  if (env.GATE_SIGNING_KEYS?.trim()) {
    try {
      signingKeys = JSON.parse(env.GATE_SIGNING_KEYS) as GatewayConfig['signingKeys'];
    } catch {
      throw new TypeError(
        'preview-gate config: GATE_SIGNING_KEYS must be a JSON JWK set {"keys":[{"kty":"EC","crv":"P-256","d":...,"x":...,"y":...,"kid":...}]}',
      );
    }
  }
  const config: GatewayConfig = {
    previewDomain: env.GATE_PREVIEW_DOMAIN?.trim() || 'preview.localhost',
    publicScheme: scheme,
    ...(publicPort !== undefined ? { publicPort } : {}),
    ...(env.GATE_USER_JWT_SECRET ? { userJwtSecret: env.GATE_USER_JWT_SECRET } : {}),
    ...(env.GATE_USER_JWKS_URL ? { userJwksUrl: env.GATE_USER_JWKS_URL.trim() } : {}),
    ...(env.GATE_USER_ISSUER ? { userIssuer: env.GATE_USER_ISSUER.trim() } : {}),
    ...(env.GATE_USER_AUDIENCE ? { userAudience: env.GATE_USER_AUDIENCE.trim() } : {}),
    ...(list(env, 'GATE_ALLOWED_ORIGINS') ? { allowedOrigins: list(env, 'GATE_ALLOWED_ORIGINS')! } : {}),
    ...(ports ? { allowedPorts: ports } : {}),
    ...(bool(env, 'GATE_AUTO_START') !== undefined ? { autoStart: bool(env, 'GATE_AUTO_START')! } : {}),
    ...(bool(env, 'GATE_DEV_SERVER_ORIGIN') !== undefined ? { devServerOrigin: bool(env, 'GATE_DEV_SERVER_ORIGIN')! } : {}),
    ...(bool(env, 'GATE_DEMO') !== undefined ? { demo: bool(env, 'GATE_DEMO')! } : {}),
    ...(int(env, 'GATE_ACCESS_TTL', undefined) !== undefined ? { accessTtlSeconds: int(env, 'GATE_ACCESS_TTL', undefined)! } : {}),
    ...(int(env, 'GATE_REFRESH_TTL', undefined) !== undefined ? { refreshTtlSeconds: int(env, 'GATE_REFRESH_TTL', undefined)! } : {}),
    ...(bool(env, 'GATE_PUBLIC_SANDBOXES') !== undefined ? { allowPublicSandboxes: bool(env, 'GATE_PUBLIC_SANDBOXES')! } : {}),
    ...(signingKeys ? { signingKeys } : {}),
    ...optionalInt(env, 'GATE_UPSTREAM_REPLAY_LIMIT', 'upstreamReplayLimitBytes'),
    ...optionalInt(env, 'GATE_LINK_CACHE_TTL', 'linkCacheTtlSeconds'),
    ...optionalInt(env, 'GATE_UPSTREAM_CONNECT_TIMEOUT_MS', 'upstreamConnectTimeoutMs'),
    ...optionalInt(env, 'GATE_UPSTREAM_RESPONSE_TIMEOUT_MS', 'upstreamResponseTimeoutMs'),
    ...optionalInt(env, 'GATE_UPGRADE_TIMEOUT_MS', 'upgradeTimeoutMs'),
    ...(list(env, 'GATE_TRUSTED_PROXIES') ? { trustedProxies: list(env, 'GATE_TRUSTED_PROXIES')! } : {}),
    ...(limitsFromEnv(env) ? { limits: limitsFromEnv(env)! } : {}),
    // Shared store (docs/interface.md, "Several instances"): validated in resolveConfig.
    ...(env.GATE_REDIS_URL?.trim() ? { redisUrl: env.GATE_REDIS_URL.trim() } : {}),
    ...(env.GATE_REDIS_PREFIX !== undefined && env.GATE_REDIS_PREFIX !== '' ? { redisPrefix: env.GATE_REDIS_PREFIX } : {}),
    ...(int(env, 'GATE_REDIS_COMMAND_TIMEOUT_MS', undefined) !== undefined
      ? { redisCommandTimeoutMs: int(env, 'GATE_REDIS_COMMAND_TIMEOUT_MS', undefined)! }
      : {}),
    ...(env.GATE_KEYS_SECRET ? { keysSecret: env.GATE_KEYS_SECRET } : {}),
    ...timeoutsFromEnv(env),
    // Closed unless a token is configured: /metrics is not for the world (broker/core/ops.ts).
    metricsToken: env.GATE_METRICS_TOKEN?.trim() || null,
    ...(env.GATE_POLICY_URL?.trim() ? { policyUrl: env.GATE_POLICY_URL.trim() } : {}),
    ...(env.GATE_POLICY_TOKEN?.trim() ? { policyToken: env.GATE_POLICY_TOKEN.trim() } : {}),
    ...(int(env, 'GATE_POLICY_CACHE_SECONDS', undefined) !== undefined ? { policyCacheSeconds: int(env, 'GATE_POLICY_CACHE_SECONDS', undefined)! } : {}),
    ...(env.GATE_SERVICE_TOKEN?.trim() ? { serviceToken: env.GATE_SERVICE_TOKEN.trim() } : {}),
    ...(env.GATE_APP_URL?.trim() ? { appUrl: env.GATE_APP_URL.trim() } : {}),
    ...(env.GATE_PRODUCT_NAME?.trim() ? { productName: env.GATE_PRODUCT_NAME.trim() } : {}),
    ...(env.GATE_PRODUCT_LOGO_URL?.trim() ? { productLogoUrl: env.GATE_PRODUCT_LOGO_URL.trim() } : {}),
    ...(env.GATE_ACTIVITY_UPDATES?.trim() ? { activityUpdates: env.GATE_ACTIVITY_UPDATES.trim().toLowerCase() as GatewayConfig['activityUpdates'] } : {}),
  };
  const daytonaApi = {
    ...(env.DAYTONA_API_URL ? { apiUrl: env.DAYTONA_API_URL } : {}),
    ...(env.DAYTONA_API_KEY ? { apiKey: env.DAYTONA_API_KEY } : {}),
    ...(env.DAYTONA_TARGET ? { target: env.DAYTONA_TARGET } : {}),
  };
  const log = (env.GATE_LOG?.trim().toLowerCase() || 'json') as EnvConfig['log'];
  if (log !== 'json' && log !== 'off') throw new TypeError(`preview-gate config: GATE_LOG must be json or off, got "${env.GATE_LOG}"`);
  const logLevel = (env.GATE_LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new TypeError(`preview-gate config: GATE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.GATE_LOG_LEVEL}"`);
  const drainSeconds = int(env, 'GATE_DRAIN_SECONDS', 25)!;
  if (drainSeconds > 3600) throw new TypeError('preview-gate config: GATE_DRAIN_SECONDS must be 0..3600');
  const heapHeadroomMb = int(env, 'GATE_HEAP_HEADROOM_MB', DEFAULT_HEADROOM_MB)!;
  if (heapHeadroomMb > 1024) throw new TypeError(`preview-gate config: GATE_HEAP_HEADROOM_MB must be 0..1024 (MB), got "${env.GATE_HEAP_HEADROOM_MB}"`);
  return { config, port, host: env.GATE_HOST?.trim() || '127.0.0.1', daytonaApi, log, logLevel, drainSeconds, heapHeadroomMb };
}

/** GATE_RATE_LIMITS, GATE_RATE_WINDOW, GATE_MAX_SESSIONS_PER_USER, GATE_MAX_SHARES_PER_USER (broker/core/limits/config.ts). */
function limitsFromEnv(env: NodeJS.ProcessEnv): LimitsConfig | undefined {
  const limits: LimitsConfig = {
    ...(env.GATE_RATE_LIMITS?.trim() ? { rateLimits: parseRateLimitsEnv(env.GATE_RATE_LIMITS) } : {}),
    ...(int(env, 'GATE_RATE_WINDOW', undefined) !== undefined ? { windowSeconds: int(env, 'GATE_RATE_WINDOW', undefined)! } : {}),
    ...(int(env, 'GATE_MAX_SESSIONS_PER_USER', undefined) !== undefined ? { maxSessionsPerUser: int(env, 'GATE_MAX_SESSIONS_PER_USER', undefined)! } : {}),
    ...(int(env, 'GATE_MAX_SHARES_PER_USER', undefined) !== undefined ? { maxSharesPerUser: int(env, 'GATE_MAX_SHARES_PER_USER', undefined)! } : {}),
  };
  return Object.keys(limits).length ? limits : undefined;
}
