/**
 * The gateway's configuration from the environment (see docs/interface.md, "Extensions").
 * Every variable is read here, once; a malformed value throws with the variable's name.
 */
import type { GatewayConfig } from '../core/config.js';

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
}

function int(env: NodeJS.ProcessEnv, name: string, def: number | undefined): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  if (!/^\d+$/.test(v.trim())) throw new TypeError(`preview-gate: ${name} must be a whole number, got "${v}"`);
  return Number(v.trim());
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new TypeError(`preview-gate: ${name} must be true or false, got "${env[name]}"`);
}

function list(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * @example
 * const { config, port } = configFromEnv({ GATE_USER_JWT_SECRET: 'x'.repeat(32) });
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const port = int(env, 'GATE_PORT', 8787)!;
  if (port > 65535) throw new TypeError('preview-gate: GATE_PORT must be 0..65535');
  const scheme = env.GATE_PUBLIC_SCHEME?.trim() || 'http';
  if (scheme !== 'http' && scheme !== 'https') throw new TypeError(`preview-gate: GATE_PUBLIC_SCHEME must be http or https, got "${scheme}"`);
  // GATE_PUBLIC_PORT unset: the listening port; set but empty: the scheme's default port.
  const publicPort = env.GATE_PUBLIC_PORT === undefined ? undefined : env.GATE_PUBLIC_PORT.trim() === '' ? null : int(env, 'GATE_PUBLIC_PORT', undefined)!;
  const ports = list(env, 'GATE_ALLOWED_PORTS')?.map((p) => {
    if (!/^\d+$/.test(p)) throw new TypeError(`preview-gate: GATE_ALLOWED_PORTS must be a comma list of ports, got "${p}"`);
    return Number(p);
  });
  let signingKeys: GatewayConfig['signingKeys'];
  if (env.GATE_SIGNING_KEYS?.trim()) {
    try {
      signingKeys = JSON.parse(env.GATE_SIGNING_KEYS) as GatewayConfig['signingKeys'];
    } catch {
      throw new TypeError('preview-gate: GATE_SIGNING_KEYS must be a JSON JWK set {"keys":[{"kty":"EC","crv":"P-256","d":...,"x":...,"y":...,"kid":...}]}');
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
    ...(bool(env, 'GATE_DEMO') !== undefined ? { demo: bool(env, 'GATE_DEMO')! } : {}),
    ...(int(env, 'GATE_ACCESS_TTL', undefined) !== undefined ? { accessTtlSeconds: int(env, 'GATE_ACCESS_TTL', undefined)! } : {}),
    ...(int(env, 'GATE_REFRESH_TTL', undefined) !== undefined ? { refreshTtlSeconds: int(env, 'GATE_REFRESH_TTL', undefined)! } : {}),
    ...(bool(env, 'GATE_PUBLIC_SANDBOXES') !== undefined ? { allowPublicSandboxes: bool(env, 'GATE_PUBLIC_SANDBOXES')! } : {}),
    ...(signingKeys ? { signingKeys } : {}),
    ...(env.GATE_ACTIVITY_UPDATES?.trim() ? { activityUpdates: env.GATE_ACTIVITY_UPDATES.trim().toLowerCase() as GatewayConfig['activityUpdates'] } : {}),
  };
  const daytonaApi = {
    ...(env.DAYTONA_API_URL ? { apiUrl: env.DAYTONA_API_URL } : {}),
    ...(env.DAYTONA_API_KEY ? { apiKey: env.DAYTONA_API_KEY } : {}),
    ...(env.DAYTONA_TARGET ? { target: env.DAYTONA_TARGET } : {}),
  };
  const log = (env.GATE_LOG?.trim().toLowerCase() || 'json') as EnvConfig['log'];
  if (log !== 'json' && log !== 'off') throw new TypeError(`preview-gate: GATE_LOG must be json or off, got "${env.GATE_LOG}"`);
  return { config, port, host: env.GATE_HOST?.trim() || '127.0.0.1', daytonaApi, log };
}
