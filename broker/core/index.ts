/**
 * The gateway's portable core: `createGateway(config, deps)` and the seams it is built from.
 * See ARCHITECTURE.md for the request flows through these files.
 */
export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { resolveConfig, type GatewayConfig, type ResolvedConfig } from './config.js';
export type { UpgradeDecision } from './upgrade.js';
export { labelPolicy, USERS_LABEL, type PreviewPolicy } from './auth/policy.js';
export type { User } from './auth/user-session.js';
export type { Store, PreviewSessionRecord, RefreshRecord, ShareRecord, LaunchCodeRecord, WsTicketRecord, CookieMode } from './store/store.js';
export { createMemoryStore, type MemoryStoreOptions } from './store/memory.js';
export { createRedisStore, storeUnavailable, type RedisStore, type RedisStoreOptions } from './store/redis/store.js';
export { RedisReplyError, RedisUnavailableError, type RedisPort } from './store/redis/port.js';
export { createFleetKeyRing, type FleetKeyRing, type FleetKeyRingOptions } from './tokens/fleet-keys.js';
export { createMetrics, METRIC, type MetricsRegistry } from './metrics.js';
export { createJsonLogger, silentLogger } from './logger.js';
export { createKeyRing, type KeyRing } from './tokens/keys.js';
export { previewOrigin, classifyHost } from './http/host.js';
export * from './contracts.js';
