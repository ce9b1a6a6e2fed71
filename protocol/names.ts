/**
 * Header, cookie, query-parameter and path names shared by the gateway (broker/) and the
 * browser side (sw/). This file has no imports and no runtime dependencies on purpose: it is
 * type-checked against neither Node nor DOM globals (tsconfig.protocol.json: ES2022 only).
 */

/** Header Daytona's preview proxy reads; the Service Worker sends *our* access token in it. */
export const PREVIEW_TOKEN_HEADER = 'x-daytona-preview-token';
/** Sent on every upstream request so Daytona's warning interstitial never reaches a user. */
export const SKIP_WARNING_HEADER = 'x-daytona-skip-preview-warning';
/** Signed identity assertion (a JWT verifiable with the gateway's JWKS) given to the sandbox app. */
export const IDENTITY_HEADER = 'x-preview-gate-identity';
/** Set by the Service Worker on requests it handled, so the gateway can report the credential path. */
export const VIA_WORKER_HEADER = 'x-preview-gate-via';

/**
 * Cookies on the preview origin. `__Host-` forces Secure, Path=/ and no Domain (host-only),
 * so a cookie for 3000-a.preview… is never sent to 8080-a.preview… (RFC 6265bis §4.1.3.2).
 */
export const ACCESS_COOKIE = '__Host-pg-access';
export const REFRESH_COOKIE = '__Host-pg-refresh';
/** The prefix every gateway cookie shares: an app's `Set-Cookie` with it is never let through. */
export const GATE_COOKIE_PREFIX = '__Host-pg-';
/**
 * Set beside the session cookies when a browser follows a share link: the share's end (ms), no
 * secret. It outlives the share by a week, so a reload after the end says "this share link has
 * expired" instead of "this preview is private" (broker/core/http/cookies.ts#endedShare).
 */
export const SHARE_END_COOKIE = '__Host-pg-share-end';

/** Reserved prefix on every preview origin; requests under it are never forwarded. */
export const RESERVED_PREFIX = '/__gate/';
export const GATE_PATHS = {
  launch: '/__gate/launch',
  session: '/__gate/session',
  refresh: '/__gate/refresh',
  logout: '/__gate/logout',
  serviceWorker: '/__gate/sw.js',
  bootstrapScript: '/__gate/bootstrap.js',
  wsTicket: '/__gate/ws-ticket',
  /** The WebSocket wrapper of the cookie-less worker path (sw/page/ws-shim.ts). */
  wsShim: '/__gate/ws.js',
  status: '/__gate/status',
} as const;

/** Query parameter that carries a share-link token; removed before the request is forwarded. */
export const SHARE_QUERY = '__gate_share';
/** Query parameter that carries a single-use WebSocket ticket; removed before forwarding. */
export const WS_TICKET_QUERY = '__gate_ticket';
/** Fragment parameter of the launch URL: `#code=...` (a fragment reaches no server log or Referer). */
export const LAUNCH_CODE_FRAGMENT = 'code';
/** Fragment parameter of the launch URL naming the path to land on after bootstrap. */
export const LAUNCH_PATH_FRAGMENT = 'path';

/** Daytona's own ports on every sandbox; never reachable through the gateway. */
export const DAYTONA_RESERVED_PORTS: readonly number[] = [22222, 2280, 33333];

/** IndexedDB key (idb-keyval default store) under which the Service Worker keeps its tokens. */
export const SW_TOKEN_KEY = 'preview-gate:tokens';
