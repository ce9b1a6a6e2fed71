/**
 * The client's network address as the runtime edge saw it. The Node edge (@hono/node-server)
 * passes its bindings as Hono's `env`, `incoming` being the node:http request; another runtime
 * passes nothing and the address stays unknown (the public-lookup budget is then global only).
 */
export function clientAddressOf(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress || undefined;
}
