/**
 * The HTML the gateway renders itself: the launch page and the error pages come from the
 * browser side's renderers (sw/page/, pure strings, so the Service Worker and the bootstrap
 * read the same `data-gate-*` attributes the gateway writes); this file adds the headers
 * they need (a CSP with a per-answer nonce) and the self-reload of the "starting" page.
 */
import type { ErrorCode } from '../../../protocol/index.js';
import { renderErrorPage } from '../../../sw/page/error-page.js';
import { renderLaunchPage } from '../../../sw/page/launch-page.js';
import { randomToken } from '../tokens/crypto.js';

/** The seconds a "starting" page waits before reloading itself. */
export const STARTING_RELOAD_SECONDS = 2;

/**
 * Headers of a gateway page. `frameAncestors`: the host-app origins allowed to frame it
 * (empty or `*`: any, since host apps embed previews in iframes). `connectSrc`: more sources the
 * page may fetch (the launch page: the other preview origins, for a several-port grant's cookie exchanges).
 */
export function pageHeaders(nonce: string, frameAncestors: readonly string[], connectSrc = ''): Record<string, string> {
  const fa = frameAncestors.length && !frameAncestors.includes('*') ? `; frame-ancestors 'self' ${frameAncestors.join(' ')}` : '';
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'nonce-${nonce}'; connect-src 'self'${connectSrc ? ` ${connectSrc}` : ''}; img-src 'self' data:; base-uri 'none'; form-action 'none'${fa}`,
  };
}

export function newNonce(): string {
  return randomToken(16);
}

/** An error page for a person: what happened and the way out. `sandbox_starting` reloads itself. */
export function errorPage(code: ErrorCode, message: string, nonce: string): string {
  const html = renderErrorPage({ code, message, nonce });
  if (code !== 'sandbox_starting') return html;
  // A meta refresh works under the CSP (no inline script needed) and without JavaScript.
  return html.replace('<head>', `<head>\n<meta http-equiv="refresh" content="${STARTING_RELOAD_SECONDS}">`);
}

/** The launch page at /__gate/launch (see sw/page/launch-page.ts and bootstrap.ts). */
export function launchPage(cookieMode: 'lax' | 'partitioned', nonce: string): string {
  return renderLaunchPage({ cookieMode, nonce });
}
