/**
 * The client's network address as the runtime edge saw it. The Node edge resolves it once per
 * request (broker/node/client-address.ts: the socket's peer, or `X-Forwarded-For` read only
 * through GATE_TRUSTED_PROXIES) and passes it in Hono's `env` as `clientAddress`; without that,
 * the @hono/node-server binding's socket peer (`incoming`). Another runtime passes nothing and the
 * address stays unknown (per-client budgets and rate limits then count globally only).
 */
interface EdgeEnv {
  clientAddress?: string;
  incoming?: { socket?: { remoteAddress?: string } };
}

export function clientAddressOf(env: unknown): string | undefined {
  const e = env as EdgeEnv | undefined;
  return e?.clientAddress || e?.incoming?.socket?.remoteAddress || undefined;
}
