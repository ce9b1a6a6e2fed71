/**
 * The little the Redis store needs from a Redis client, so the store's logic (key layout, Lua
 * scripts, contracts) stays in the portable core and the client lives at the edge:
 * `broker/node/redis-port.ts` implements it over node-redis (`@redis/client`), which imports
 * `node:net`/`node:tls` and so may not be imported by `broker/core/` (ARCHITECTURE.md, "Parts").
 * Another runtime can implement the same four members over its own client.
 */

/** Redis answered with an error reply (a bug in a command or script, never an outage). */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

/**
 * Redis could not be asked: not connected (commands fail at once, there is no offline queue),
 * or no answer within the command timeout. Callers turn it into a 503 `store_unavailable`.
 */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisPort {
  /**
   * Sends one command (`['SET', key, value, 'PXAT', '…']`) and resolves with the RESP2 reply
   * (string, number, null or array). Rejects with RedisUnavailableError or RedisReplyError.
   */
  command(args: readonly string[]): Promise<unknown>;
  /**
   * Subscribes to channels on a connection of its own; the implementation re-subscribes after
   * every reconnect. `onMessage(channel, message)`.
   */
  subscribe(channels: readonly string[], onMessage: (channel: string, message: string) => void): Promise<void>;
  /**
   * Called after every (re)connection of either connection once it can serve: the moment to
   * catch up on what pub/sub may have missed while disconnected. Returns an unsubscribe.
   */
  onReady(listener: () => void): () => void;
  /** True while commands can be sent. */
  readonly ready: boolean;
}

/** SHA-1 hex of a Lua script (EVALSHA's name for it), with WebCrypto. */
async function sha1(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A Lua script run by EVALSHA, falling back to EVAL (which also caches it on the server) on
 * NOSCRIPT, e.g. after Redis restarted: what node-redis's `defineScript` does, over `RedisPort`.
 */
export function luaScript(source: string): (port: RedisPort, keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown> {
  let digest: Promise<string> | null = null;
  return async (port, keys, args) => {
    digest ??= sha1(source);
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await port.command(['EVALSHA', await digest, ...tail]);
    } catch (err) {
      if (err instanceof RedisReplyError && err.message.startsWith('NOSCRIPT')) return port.command(['EVAL', source, ...tail]);
      throw err;
    }
  };
}
