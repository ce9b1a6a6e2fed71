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

/**
 * Kept on the request object itself under a private symbol: a WeakMap entry per request (what this
 * was) made an ephemeron for the garbage collector to trace on every request, and each read a hash lookup.
 */
const SEEN = Symbol('preview-gate.host');
type Marked = Request & { [SEEN]?: Seen };

/**
 * How many `urlOf` calls were answered from the request's remembered URL, and how many forwarded
 * requests' URLs from the router's parse (`parsedUrlOf`): tests prove the fast paths.
 */
export const urlStats = { remembered: 0, forwarded: 0 };

export function rememberHost(req: Request, kind: HostKind, url: URL): void {
  (req as Marked)[SEEN] = { kind, url };
}

/** The classification and URL kept for `req`, if any step has kept them yet. */
export function rememberedHost(req: Request): Readonly<Seen> | undefined {
  return (req as Marked)[SEEN];
}

export function hostOf(req: Request): HostKind {
  const h = (req as Marked)[SEEN];
  if (!h) throw new GateError('internal', 'Request reached a route without host classification.');
  return h.kind;
}

/**
 * The request's URL as parsed once by the router (read it, never change it: every step of this
 * request shares it); a request the router never saw is parsed here.
 */
export function urlOf(req: Request): URL {
  const h = (req as Marked)[SEEN];
  if (h) {
    urlStats.remembered++;
    return h.url;
  }
  return new URL(req.url);
}

/**
 * The URL of a request the core forwards (forward-request.ts ForwardedRequest), parsed: the
 * router's own parse when the forwarded URL is the client's unchanged (no gateway query, the same
 * scheme), checked by its text; else parsed here. Read it, never change it (see urlOf).
 */
export function parsedUrlOf(request: Request): URL {
  const parsed = (request as { parsedUrl?: URL | null }).parsedUrl;
  if (parsed != null && parsed.href === request.url) {
    urlStats.forwarded++;
    return parsed;
  }
  return new URL(request.url);
}
