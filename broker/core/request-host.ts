/**
 * The host classification of each request (gateway origin, preview origin or unknown) and its
 * parsed URL, computed once in Hono's `getPath` (gateway.ts) and read by the routes:
 * `hostOf(request)`, `urlOf(request)`. Parsing the URL once instead of in every step that reads
 * the path was ~3% of a proxied request (docs/benchmarks.md, "Hot path: before and after").
 */
import { GateError } from '../../protocol/index.js';
import type { HostKind } from './http/host.js';

interface Seen {
  kind: HostKind;
  url: URL;
}

const seen = new WeakMap<Request, Seen>();

/** How many `urlOf` calls were answered from the request's remembered URL (tests prove the fast path). */
export const urlStats = { remembered: 0 };

export function rememberHost(req: Request, kind: HostKind, url: URL): void {
  seen.set(req, { kind, url });
}

export function hostOf(req: Request): HostKind {
  const h = seen.get(req);
  if (!h) throw new GateError('internal', 'Request reached a route without host classification.');
  return h.kind;
}

/**
 * The request's URL as parsed once by the router (read it, never change it: every step of this
 * request shares it); a request the router never saw is parsed here.
 */
export function urlOf(req: Request): URL {
  const h = seen.get(req);
  if (h) {
    urlStats.remembered++;
    return h.url;
  }
  return new URL(req.url);
}
