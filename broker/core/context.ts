/** Everything the gateway's route files share, built once by createGateway. */
import type { Hono } from 'hono';
import type { Clock, DaytonaPort, GatewayAssets, Logger, Principal, Upstream } from './contracts.js';
import type { ResolvedConfig } from './config.js';
import type { Authenticator } from './authenticate.js';
import type { Credentials } from './credentials.js';
import type { Limits } from './limits/limits.js';
import type { MetricsRegistry } from './metrics.js';
import type { PreviewPolicy } from './auth/policy.js';
import type { UserSessionVerifier } from './auth/user-session.js';
import type { Store } from './store/store.js';
import type { KeyRing } from './tokens/keys.js';
import type { Tokens } from './tokens/tokens.js';

export interface GateVariables {
  /** User id for the request log line. */
  user?: string;
  /** Error code for the request log line. */
  code?: string;
  /** The refusal's message (its reason) for the request log line. */
  reason?: string;
  /** X-Request-Id of this request (accepted or generated, broker/core/ops.ts). */
  requestId?: string;
  /** This request's logger (its lines carry `rid` and `client`), made on first use: ops.ts `requestLog`. */
  log?: Logger;
  /** Set-Cookie values to add to whatever answer goes out (renewals must never be lost). */
  setCookies?: string[];
}

export type GateEnv = { Variables: GateVariables };

/**
 * What the per-request steps read and write of one request: Hono's Context is one, and so is the
 * direct path's own scope (gateway.ts `handle`: proxied preview requests skip Hono's router).
 */
export interface RequestScope {
  readonly req: { readonly raw: Request; readonly method: string };
  /** The runtime edge's bindings (client address, client-abort hook, raw header list). */
  readonly env: unknown;
  get<K extends keyof GateVariables>(key: K): GateVariables[K];
  set<K extends keyof GateVariables>(key: K, value: GateVariables[K]): void;
}
export type GateApp = Hono<GateEnv>;

export interface GatewayContext {
  config: ResolvedConfig;
  store: Store;
  keys: KeyRing;
  tokens: Tokens;
  credentials: Credentials;
  authenticator: Authenticator;
  /** Rate limits and caps (limits/limits.ts). */
  limits: Limits;
  users: UserSessionVerifier;
  policy: PreviewPolicy;
  daytona: DaytonaPort;
  upstream: Upstream;
  metrics: MetricsRegistry;
  logger: Logger;
  clock: Clock;
  assets: Partial<GatewayAssets> | undefined;
  /** The identity assertion for a principal on an origin (cached briefly), or null for anonymous. */
  identity(principal: Principal, origin: string): string | null | Promise<string | null>;
}

/** Route prefixes that `getPath` puts in front of the path, by host kind (see gateway.ts). */
export const GW = '/~gw';
export const PV = '/~pv';
export const XX = '/~xx';
