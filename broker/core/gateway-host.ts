/** The host classification of each request, computed once in Hono's `getPath` and read by the routes. */
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
