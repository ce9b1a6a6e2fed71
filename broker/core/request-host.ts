/**
 * The host classification of each request (gateway origin, preview origin or unknown),
 * computed once in Hono's `getPath` (gateway.ts) and read by the routes: `hostOf(request)`.
 */
import { GateError } from '../../protocol/index.js';
import type { HostKind } from './http/host.js';

const hosts = new WeakMap<Request, HostKind>();

export function rememberHost(req: Request, kind: HostKind): void {
  hosts.set(req, kind);
}

export function hostOf(req: Request): HostKind {
  const h = hosts.get(req);
  if (!h) throw new GateError('internal', 'Request reached a route without host classification.');
  return h;
}
