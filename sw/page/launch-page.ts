/**
 * The HTML of GET /__gate/launch, rendered by the gateway core. The page is a shell: the
 * launch code stays in the fragment (never sent to a server) and /__gate/bootstrap.js does the
 * work (see bootstrap.ts).
 *
 * Headers the gateway should send with it: `Content-Type: text/html; charset=utf-8`,
 * `Cache-Control: no-store`, `Referrer-Policy: no-referrer`, and
 * `Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'nonce-<n>';
 * connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none';
 * frame-ancestors <allowed host origins>` (no `X-Frame-Options: DENY`: host apps frame it).
 *
 * @example
 *   c.html(renderLaunchPage({ nonce }), 200, { 'Content-Security-Policy': csp(nonce) })
 */
import { brandAttributes, brandHeader, pageHead, type PageBrand } from './html.js';

export interface LaunchPageOptions {
  /** CSP nonce for the inline stylesheet and the script tag; omitted when the CSP has none. */
  nonce?: string;
  /** The cookie mode the gateway saw for this navigation; echoed by the bootstrap in its POST. */
  cookieMode?: 'lax' | 'partitioned';
  /** Product name, logo and the host app's URL (the failure view's "Back to the app"). */
  brand?: PageBrand;
}

export function renderLaunchPage(opts: LaunchPageOptions = {}): string {
  return `<!doctype html>
<html lang="en">
${pageHead('Opening preview…', opts.nonce)}
<body data-gate-page="launch"${brandAttributes(opts.brand)}>
<main id="preview-gate" aria-live="polite"${opts.cookieMode ? ` data-cookie-mode="${opts.cookieMode}"` : ''}>
${brandHeader(opts.brand)}
<div class="spinner" aria-hidden="true"></div>
<p>Opening the preview…</p>
<noscript><p>This preview needs JavaScript to sign you in. Enable it and reload.</p></noscript>
</main>
</body>
</html>
`;
}
