/**
 * Apps on several ports of one sandbox (ARCHITECTURE.md flow 16): the worker of the main origin
 * (say port 3000) also gives the app's CORS requests to a SIBLING origin of its grant (port 8000
 * of the same sandbox) that origin's own access token. The tokens come with the main grant
 * (`TokenGrant.siblings`, minted and renewed with it by the gateway), each scoped to its origin
 * alone: a sibling's token never goes anywhere but its origin, and an origin outside the grant
 * gets nothing.
 *
 * What it takes: `mode: 'cors'` requests only (a `no-cors` request cannot carry a custom header:
 * `<img>`/`<script>` without `crossorigin` keep the sibling's cookie), never `/__gate/`, never
 * media or `Range`, EventSource only on the cookie-less path (as for the own origin, sw.ts).
 * The custom header makes the browser preflight the request; the gateway answers preflights on
 * every preview origin as Daytona's proxy does (broker/core/proxy.ts#preflight), and the app's
 * own CORS headers on the real answer still decide whether the page may read it.
 *
 * Also here, for the bootstrap (sw/page/bootstrap.ts): the sibling origins' cookie exchanges,
 * and for the WebSocket wrapper (sw/page/ws-shim-entry.ts): recognising a sibling socket URL.
 */
import { GATE_PATHS, PREVIEW_TOKEN_HEADER, RESERVED_PREFIX, VIA_WORKER_HEADER, isSessionOver, type SiblingToken } from '../../protocol/index.js';
import { copyRequest, hasBody } from './attach-token.js';
import { readErrorCode } from './gate-error.js';
import { needsRenewal, type Clock, type FetchFn, type Renewer } from './renew.js';
import type { StoredGrant, TokenStore } from './token-store.js';

/**
 * The port of `url` when it is the same sandbox as `self` on another port, spelt as the gateway
 * spells preview origins (`{port}-{sandboxId}.{domain}[:publicPort]`, same scheme), else null.
 * Only a candidate: the grant decides (and the gateway again, by the token's `aud`).
 */
export function siblingPortOf(url: URL, self: { protocol: string; host: string }): number | null {
  const own = /^(\d{1,5})-(.+)$/.exec(self.host);
  const other = /^(\d{1,5})-(.+)$/.exec(url.host);
  if (!own || !other || own[2] !== other[2] || own[1] === other[1]) return null;
  const scheme = url.protocol === 'ws:' ? 'http:' : url.protocol === 'wss:' ? 'https:' : url.protocol;
  return scheme === self.protocol ? Number(other[1]) : null;
}

/** The parts of a Request the route's match needs. */
export interface SiblingRequestShape {
  url: string;
  mode: RequestMode;
  headers: Headers;
  destination: string;
}

const STREAM_DESTINATIONS = new Set(['audio', 'video', 'track']);

/** The route's synchronous match: a CORS request to a candidate sibling origin, outside /__gate/. */
export function isSiblingCandidate(request: SiblingRequestShape, self: { protocol: string; host: string }): boolean {
  if (request.mode !== 'cors') return false;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return false;
  }
  if (siblingPortOf(url, self) === null || url.pathname.startsWith(RESERVED_PREFIX)) return false;
  return !STREAM_DESTINATIONS.has(request.destination) && !request.headers.has('range');
}

/** The sibling token of the grant for exactly this origin, if the grant has one. */
export function siblingToken(grant: StoredGrant | undefined, origin: string): SiblingToken | undefined {
  return grant?.siblings?.find((s) => s.origin === origin);
}

/** A CORS copy of `request` carrying `token` (or none). The redirect is kept manual: the token never follows one. */
export function rebuildSiblingRequest(request: Request, body: ArrayBuffer | null, token: string | null): Request {
  const headers = new Headers(request.headers);
  if (token) {
    headers.set(PREVIEW_TOKEN_HEADER, token);
    headers.set(VIA_WORKER_HEADER, 'worker');
  }
  return copyRequest(request, headers, body, 'cors', token ? 'manual' : request.redirect);
}

export interface SiblingHandlerDeps {
  fetch: FetchFn;
  store: TokenStore;
  renewer: Renewer;
  clock: Clock;
  onDead?: (code: string) => void;
}

/** The handler of the sibling route: token of the grant for that origin, renewal, one retry on `token_expired`. */
export function createSiblingHandler(deps: SiblingHandlerDeps): (request: Request) => Promise<Response> {
  async function tokenFor(origin: string): Promise<string | null> {
    let grant = await deps.store.read();
    if (!siblingToken(grant, origin)) return null;
    if (grant && needsRenewal(grant, deps.clock())) {
      const r = await deps.renewer.renew(grant.accessToken);
      if (r.kind === 'renewed') grant = r.grant;
      else if (r.kind === 'dead') {
        deps.onDead?.(r.code);
        return null;
      }
    }
    const t = siblingToken(grant, origin);
    return t && t.expiresAt > deps.clock() ? t.accessToken : null;
  }

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const grant = await deps.store.read();
    // EventSource keeps the sibling's cookie unless no cookie works here (as on the own origin).
    const stream = (request.headers.get('accept') ?? '').includes('text/event-stream');
    const token = stream && !grant?.cookieless ? null : await tokenFor(url.origin);
    if (token === null) return deps.fetch(request);
    const body = hasBody(request.method) ? await request.arrayBuffer() : null;
    const send = async (t: string | null): Promise<Response> => {
      const response = await deps.fetch(rebuildSiblingRequest(request, body, t));
      // A redirect: let the browser follow it without our token (a GET/HEAD only; a body is not sent twice).
      if (response.type === 'opaqueredirect' && !hasBody(request.method)) return deps.fetch(rebuildSiblingRequest(request, null, null));
      return response;
    };
    const response = await send(token);
    if (response.status !== 401) return response;
    const code = await readErrorCode(response.clone());
    if (code === 'token_expired') {
      const r = await deps.renewer.renew(grant?.accessToken);
      const fresh = r.kind === 'renewed' ? siblingToken(r.grant, url.origin)?.accessToken : undefined;
      if (r.kind === 'dead') deps.onDead?.(r.code);
      return send(fresh ?? null);
    }
    if (isSessionOver(code)) deps.onDead?.(code);
    return response;
  };
}

/**
 * The bootstrap's cookie exchanges for the sibling origins (the answer of the main exchange
 * lists one single-use code per sibling). Each sibling's cookies are host-only (`__Host-`), so
 * only an answer from its own host can set them: a credentialed CORS POST there, `text/plain`
 * so no preflight is needed. Returns the origins whose cookie was set AND comes back
 * (GET /__gate/status there, readable by this page); never throws (the worker's
 * tokens still carry the siblings where the cookie is refused).
 */
export async function exchangeSiblingCodes(launches: unknown, cookieMode: unknown, fetchFn: typeof fetch = fetch): Promise<string[]> {
  if (!Array.isArray(launches)) return [];
  const done = await Promise.all(
    launches.map(async (l: { origin?: unknown; code?: unknown }) => {
      if (typeof l?.origin !== 'string' || typeof l.code !== 'string') return null;
      try {
        const res = await fetchFn(l.origin + GATE_PATHS.session, {
          method: 'POST',
          mode: 'cors',
          credentials: 'include',
          cache: 'no-store',
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
          body: JSON.stringify({ code: l.code, cookieMode }),
        });
        if (!res.ok) return null;
        // Does the cookie come back? WebKitGTK, for one, refuses a cookie set by a same-site
        // fetch at top level: the sibling is then cookie-less (tickets, tokens) like a frame.
        const status = await fetchFn(l.origin + GATE_PATHS.status, { mode: 'cors', credentials: 'include', cache: 'no-store' });
        const body = (await status.json().catch(() => null)) as { authenticated?: unknown } | null;
        return body?.authenticated === true ? l.origin : null;
      } catch {
        return null;
      }
    }),
  );
  return done.filter((o): o is string => o !== null);
}

/** The hook sw.ts calls once: one route per method for the sibling origins' CORS requests. */
export function siblingRoute(self: { protocol: string; host: string }) {
  return (request: SiblingRequestShape): boolean => isSiblingCandidate(request, self);
}
