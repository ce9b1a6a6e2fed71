/**
 * The HTML the gateway renders itself: the launch page and the error pages come from the
 * browser side's renderers (sw/page/, pure strings, so the Service Worker and the bootstrap
 * read the same `data-gate-*` attributes the gateway writes); this file adds the headers
 * they need (a CSP with a per-answer nonce, the operator's logo origin) and what the page needs
 * to know of the request (the sandbox port, for "Waiting for the app on port N").
 */
import type { ErrorCode } from '../../../protocol/index.js';
import { renderErrorPage } from '../../../sw/page/error-page.js';
import { portOfHost } from '../../../sw/page/failures.js';
import type { PageBrand } from '../../../sw/page/html.js';
import { renderLaunchPage } from '../../../sw/page/launch-page.js';
import type { ResolvedPages } from '../page-config.js';
import { randomToken } from '../tokens/crypto.js';

/**
 * Headers of a gateway page. `frameAncestors`: the host-app origins allowed to frame it
 * (empty or `*`: any, since host apps embed previews in iframes). `pages`: the logo's origin
 * joins `img-src`. `connectSrc`: more sources the page may fetch (the launch page: the other
 * preview origins, for a several-port grant's cookie exchanges).
 */
export function pageHeaders(nonce: string, frameAncestors: readonly string[], pages?: ResolvedPages | null, connectSrc = ''): Record<string, string> {
  const fa = frameAncestors.length && !frameAncestors.includes('*') ? `; frame-ancestors 'self' ${frameAncestors.join(' ')}` : '';
  const img = pages?.logoOrigin ? ` ${pages.logoOrigin}` : '';
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'nonce-${nonce}'; connect-src 'self'${connectSrc ? ` ${connectSrc}` : ''}; img-src 'self' data:${img}; base-uri 'none'; form-action 'none'${fa}`,
  };
}

export function newNonce(): string {
  return randomToken(16);
}

export function brandOf(pages: ResolvedPages | null | undefined): PageBrand | undefined {
  return pages ? { productName: pages.productName, logoUrl: pages.logoUrl, appUrl: pages.appUrl } : undefined;
}

/**
 * An error page for a person: what happened, what to do, the way out. `app_not_listening` and
 * `sandbox_starting` are waiting pages that turn into the app by themselves (sw/page/waiting.ts).
 */
export function errorPage(code: ErrorCode, message: string, nonce: string, opts: { host?: string; pages?: ResolvedPages | null } = {}): string {
  const brand = brandOf(opts.pages);
  return renderErrorPage({ code, message, nonce, port: opts.host ? portOfHost(opts.host) : null, ...(brand ? { brand } : {}) });
}

/** The launch page at /__gate/launch (see sw/page/launch-page.ts and bootstrap.ts). */
export function launchPage(cookieMode: 'lax' | 'partitioned', nonce: string, pages?: ResolvedPages | null): string {
  const brand = brandOf(pages);
  return renderLaunchPage({ cookieMode, nonce, ...(brand ? { brand } : {}) });
}
