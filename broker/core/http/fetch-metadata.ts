/**
 * "What kind of browser request is this?": the four rules the gateway takes from Fetch Metadata
 * (`Sec-Fetch-Site`, `-Mode`, `-Dest`, W3C Fetch Metadata) and `Accept`, in one place so they
 * stay consistent. Requests without Fetch Metadata (programs, older browsers) fall back to
 * `Accept` where a browser needs an HTML answer, and are trusted with cookies (a program's
 * cookies are its own).
 */
import type { CookieMode } from '../store/store.js';

const isRead = (req: Request) => req.method === 'GET' || req.method === 'HEAD';

/**
 * Whether the gateway's access/refresh COOKIES may authenticate this request.
 *
 * Threat: sibling-preview CSRF. Every preview origin ({port}-{sandbox}.{previewDomain}) is on one
 * site, so another user's sandbox app is SAME-SITE to this preview and the browser sends our
 * `SameSite=Lax` cookies on its requests; the gateway also answers CORS preflights as Daytona
 * does (any Origin, credentials allowed), so a sibling could send credentialed, preflighted
 * requests (PUT, JSON POST, ...) into the victim's app. Cookies count only when
 * `Sec-Fetch-Site` is absent (programs, older browsers), `same-origin` (the preview page
 * itself, its Service Worker, its WebSockets) or `none` (typed URL, bookmark), or for a GET/HEAD
 * navigation (`Sec-Fetch-Mode: navigate`: the host IDE page's cross-site iframe, a top-level
 * link; like SameSite=Lax, a navigation is a read). Otherwise they are treated as absent.
 * The same rule holds on WebSocket upgrades (`Sec-Fetch-Mode: websocket` is never a navigation).
 */
export function cookiesAccepted(req: Request): boolean {
  const site = req.headers.get('sec-fetch-site');
  if (site === null || site === 'same-origin' || site === 'none') return true;
  return isRead(req) && req.headers.get('sec-fetch-mode') === 'navigate';
}

/** A browser navigation: Fetch Metadata says so, or (without it) an HTML-accepting GET/HEAD. Share links exchange for cookies only then. */
export function isNavigation(req: Request): boolean {
  if (!isRead(req)) return false;
  const mode = req.headers.get('sec-fetch-mode');
  if (mode) return mode === 'navigate';
  return /\btext\/html\b/.test(req.headers.get('accept') ?? '');
}

/** An error is answered as an HTML page (not JSON): any navigation, or a client preferring HTML. */
export function wantsHtml(req: Request): boolean {
  if (req.headers.get('sec-fetch-mode') === 'navigate') return true;
  const accept = req.headers.get('accept') ?? '';
  return /\btext\/html\b/.test(accept) && !/^application\/json\b/.test(accept);
}

/** A cross-site iframe navigation gets partitioned cookies (CHIPS); everything else `SameSite=Lax`. */
export function cookieModeOf(req: Request): CookieMode {
  return req.headers.get('sec-fetch-dest') === 'iframe' && req.headers.get('sec-fetch-site') === 'cross-site' ? 'partitioned' : 'lax';
}
