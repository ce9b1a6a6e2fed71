/**
 * The client address the core counts rate limits by. The Node edge resolves it once per request
 * (broker/node/client-address.ts: the socket's peer, or `X-Forwarded-For` read only through
 * GATE_TRUSTED_PROXIES) and passes it in the Hono env as `clientAddress`; without it, the
 * @hono/node-server binding's socket peer.
 */
import type { Context } from 'hono';

interface EdgeEnv {
  clientAddress?: string;
  incoming?: { socket?: { remoteAddress?: string } };
}

export function clientAddressOf(c: Context): string | undefined {
  const env = c.env as EdgeEnv | undefined;
  return env?.clientAddress ?? env?.incoming?.socket?.remoteAddress ?? undefined;
}
