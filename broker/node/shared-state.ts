/**
 * The fleet's shared state from the configuration: with GATE_REDIS_URL, the Redis store and
 * (unless GATE_SIGNING_KEYS is given) the fleet key ring, both over one node-redis connection
 * pair; without it, nothing (the core falls back to the in-memory store and a generated key).
 */
import type { ResolvedConfig } from '../core/config.js';
import type { Clock, Logger } from '../core/contracts.js';
import type { Store } from '../core/store/store.js';
import type { KeyRing } from '../core/tokens/keys.js';
import { createRedisStore } from '../core/store/redis/store.js';
import { createFleetKeyRing } from '../core/tokens/fleet-keys.js';

export interface SharedState {
  store: Store;
  /** Absent when GATE_SIGNING_KEYS configures the keys. */
  keys?: KeyRing;
  close(): Promise<void>;
}

export async function sharedStateFromConfig(config: ResolvedConfig, o: { clock?: Clock; logger?: Logger } = {}): Promise<SharedState | null> {
  if (!config.redis) return null;
  // Loaded only when configured: node-redis takes a noticeable time to import, and a gateway
  // without GATE_REDIS_URL never needs it.
  const { connectRedis } = await import('./redis-port.js');
  const port = await connectRedis({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs, ...(o.logger ? { logger: o.logger } : {}) });
  let store: Store | null = null;
  try {
    store = await createRedisStore({
      port,
      prefix: config.redis.prefix,
      accessTtlMs: config.accessTtlMs,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
    const keys = config.signingKeys
      ? undefined
      : await createFleetKeyRing({
          port,
          prefix: config.redis.prefix,
          secret: config.keysSecret!,
          clock: o.clock ?? Date.now,
          // A retired key verifies at least as long as an access or identity token it signed
          // lives (their exp may not have reached Redis yet); share links are tracked by exp.
          retireGraceMs: Math.max(config.accessTtlMs, config.identityTtlMs) + 60_000,
          ...(o.logger ? { logger: o.logger } : {}),
        });
    const opened = store;
    return {
      store: opened,
      ...(keys ? { keys } : {}),
      async close() {
        await keys?.close();
        await opened.close();
        await port.close();
      },
    };
  } catch (err) {
    await store?.close();
    await port.close();
    throw err;
  }
}
