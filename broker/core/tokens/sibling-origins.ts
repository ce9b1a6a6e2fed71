/**
 * Apps on several ports of one sandbox (docs/interface.md, "Apps on several ports"; ARCHITECTURE.md
 * flow 16). A launch may grant a declared set of ports of ONE sandbox; every token stays scoped
 * to its own origin and port (`aud`, `port`), and the grant only widens one thing: which
 * ORIGIN may send a request that carries this origin's cookie, ticket or WebSocket handshake.
 *
 * Every preview origin is on one site, so the browser sends our `SameSite=Lax` cookies on a
 * same-site request from any sandbox's app (http/fetch-metadata.ts#cookiesAccepted refuses
 * them for that reason). A page of origin A of the grant is the same app as origin B: its
 * credentialed fetches and WebSockets to B may ride B's cookie. Any other origin (another
 * sandbox, a port of this sandbox outside the grant, another scheme) stays refused.
 */
import type { PreviewTarget } from '../../../protocol/index.js';
import type { ResolvedConfig } from '../config.js';
import { previewOrigin } from '../http/host.js';

/** The most ports one launch may grant (the main port included). */
export const MAX_GRANT_PORTS = 8;

/**
 * The port of `origin` when it is a preview origin of the same sandbox as `host` on another
 * port (exactly as the gateway itself spells preview origins), else null.
 */
export function siblingPortOf(config: ResolvedConfig, origin: string | null, host: { target: PreviewTarget; origin: string }): number | null {
  if (origin === null || origin === host.origin) return null;
  const m = /^[a-z]+:\/\/(\d{1,5})-/.exec(origin);
  if (!m) return null;
  const port = Number(m[1]);
  if (port === host.target.port || port < 1 || port > 65535) return null;
  return previewOrigin(config, { sandboxId: host.target.sandboxId, port }) === origin ? port : null;
}

/** Whether a grant (`ports` of a session, token `grp`, ticket) includes `port`. */
export function grantIncludes(ports: readonly number[] | undefined, port: number): boolean {
  return ports !== undefined && ports.includes(port);
}

/**
 * CORS headers for the gateway's OWN coded answer (an error: `token_expired`, `missing_credential`)
 * to a request from a page of another port of the same sandbox, so that page's Service Worker
 * (or the app) can read the code and renew, instead of a bare network error. Only for such
 * candidate siblings (the code says nothing a same-sandbox page could not learn by asking), and
 * never on the app's answers: those keep the app's own CORS headers, untouched.
 */
export function siblingErrorCors(config: ResolvedConfig, req: Request, host: { target: PreviewTarget; origin: string } | null): Record<string, string> {
  if (!host) return {};
  const origin = req.headers.get('origin');
  if (siblingPortOf(config, origin, host) === null) return {};
  return {
    'access-control-allow-origin': origin!,
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'WWW-Authenticate, Retry-After',
    vary: 'Origin',
  };
}
