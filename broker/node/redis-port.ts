/**
 * The RedisPort (broker/core/store/redis/port.ts) over node-redis (`@redis/client`).
 *
 * Why node-redis: it is the client Redis itself maintains; it can refuse commands while
 * disconnected instead of queueing them (`disableOfflineQueue`: an outage is a fast 503, never
 * a pile of requests waiting), bounds every command (a timeout of our own, see `command`), reconnects on
 * its own and re-subscribes pub/sub channels after a reconnect. It speaks RESP3, but the store
 * pins RESP2 so every reply has one plain shape (strings, integers, flat arrays); pub/sub
 * therefore has a connection of its own (`duplicate()`). Lua runs through EVALSHA with an EVAL
 * fallback (`luaScript` in port.ts), which is what its `defineScript` does.
 *
 * Credentials ride in the URL (`redis://user:pass@host:port/db`, `rediss://` for TLS); nothing
 * here logs the URL, only its host.
 */
import { createClient, ErrorReply, type RedisClientType } from '@redis/client';
import { RedisReplyError, RedisUnavailableError, type RedisPort } from '../core/store/redis/port.js';
import type { Logger } from '../core/contracts.js';

export interface ConnectRedisOptions {
  /** `redis://` or `rediss://` URL (GATE_REDIS_URL). */
  url: string;
  /** Longest wait for one command's answer, ms (GATE_REDIS_COMMAND_TIMEOUT_MS). Default 1000. */
  commandTimeoutMs?: number;
  /** Longest wait for the first connection at start, ms. Default 10000. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

export interface NodeRedisPort extends RedisPort {
  close(): Promise<void>;
}

/** host:port of a Redis URL, without credentials (for messages). */
export function redisHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured Redis';
  }
}

function classify(err: unknown): Error {
  // An error reply is Redis answering (a script or command bug), not an outage. BUSY/LOADING
  // replies mean Redis cannot serve right now: those count as unavailable.
  if (err instanceof ErrorReply && !/^(BUSY|LOADING|MASTERDOWN|TRYAGAIN)\b/.test(err.message)) return new RedisReplyError(err.message);
  return new RedisUnavailableError(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

/** Connection failures that retrying cannot fix: credentials refused, TLS certificate refused. */
function permanent(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(err.message)) return true;
  const code = (err as { code?: string }).code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/.test(code);
}

/**
 * Connects (command connection + pub/sub connection). Rejects with a message naming
 * GATE_REDIS_URL when Redis is not reachable within `connectTimeoutMs`; after that, an outage
 * never rejects anything but the commands sent during it, and both connections come back alone.
 */
export async function connectRedis(o: ConnectRedisOptions): Promise<NodeRedisPort> {
  const where = redisHost(o.url);
  const commandTimeoutMs = o.commandTimeoutMs ?? 1000;
  /** True once the first connection succeeded: from then on every failure is retried. */
  let started = false;
  const client: RedisClientType = createClient({
    url: o.url,
    RESP: 2,
    disableOfflineQueue: true,
    // Commands waiting on a hung Redis are bounded too: past this many, new ones fail at once.
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout: Math.min(o.connectTimeoutMs ?? 10_000, 5000),
      // Never give up once running: back off to one attempt every 2 s while Redis is away. At
      // start, a refusal that waiting cannot cure (wrong password, untrusted certificate) stops
      // at once, so a misconfiguration is reported in a second, not after the connect timeout.
      reconnectStrategy: (retries, cause) => (!started && permanent(cause) ? cause : Math.min(50 * 2 ** retries, 2000)),
    },
  }) as unknown as RedisClientType;
  const sub = client.duplicate();
  const readyListeners = new Set<() => void>();
  let wasDown = false;
  const onError = (which: string) => (err: unknown) => {
    // An 'error' listener is mandatory: without one an EventEmitter error crashes the process.
    if (!wasDown) o.logger?.warn('redis_unavailable', { connection: which, redis: where, error: err instanceof Error ? err.name : 'unknown' });
    wasDown = true;
  };
  client.on('error', onError('commands'));
  sub.on('error', onError('pubsub'));
  const fireReady = (which: string) => () => {
    if (!started) return;
    if (wasDown) o.logger?.info('redis_ready', { connection: which, redis: where });
    wasDown = false;
    for (const l of readyListeners) {
      try {
        l();
      } catch {
        /* a listener's failure is its own */
      }
    }
  };
  client.on('ready', fireReady('commands'));
  sub.on('ready', fireReady('pubsub'));

  const timeoutMs = o.connectTimeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all([client.connect(), sub.connect()]),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`preview-gate: Redis at ${where} (GATE_REDIS_URL) is not reachable (waited ${timeoutMs} ms)`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    client.destroy();
    sub.destroy();
    throw err instanceof Error && err.message.startsWith('preview-gate:')
      ? err
      : new Error(`preview-gate: cannot connect to Redis at ${where} (GATE_REDIS_URL): ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  started = true;

  return {
    get ready() {
      return client.isReady;
    },
    async command(args) {
      if (!client.isReady) throw new RedisUnavailableError(`not connected to ${where}`);
      // node-redis's `timeout` option bounds only the wait BEFORE a command is written (its
      // commands-queue drops the timer once the bytes are sent), so a Redis that keeps the
      // socket open and answers nothing (SIGSTOP, a stalled host) would hang the caller: the
      // race below bounds the whole wait (test/redis/store-contract.test.ts, "stops
      // answering"). A late reply to a timed-out command stays matched to that command (the
      // client keeps it in its reply queue), never handed to the next one.
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          client.sendCommand(args as string[], { timeout: commandTimeoutMs }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new RedisUnavailableError(`no answer from ${where} within ${commandTimeoutMs} ms`)), commandTimeoutMs);
          }),
        ]);
      } catch (err) {
        throw err instanceof RedisUnavailableError ? err : classify(err);
      } finally {
        clearTimeout(timer);
      }
    },
    async subscribe(channels, onMessage) {
      await sub.SUBSCRIBE([...channels], (message, channel) => onMessage(channel, message));
    },
    onReady(listener) {
      readyListeners.add(listener);
      return () => readyListeners.delete(listener);
    },
    async close() {
      readyListeners.clear();
      for (const c of [sub, client]) {
        try {
          if (c.isReady) await c.close();
          else c.destroy();
        } catch {
          c.destroy();
        }
      }
    },
  };
}
