/** Small helpers for the server-rendered pages (pure strings, portable). */
import { GATE_PATHS } from '../../protocol/index.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function nonceAttr(nonce: string | undefined): string {
  return nonce ? ` nonce="${escapeHtml(nonce)}"` : '';
}

/**
 * What an operator sets for every gateway page (GATE_PRODUCT_NAME, GATE_PRODUCT_LOGO_URL,
 * GATE_APP_URL; broker/core/page-config.ts validates them): the product's name and logo at the
 * top, and where "Back to the app" goes when the tab has no history to go back to.
 */
export interface PageBrand {
  productName?: string;
  /** An http(s) URL or a `data:image/…` URL. */
  logoUrl?: string | null;
  /** The host app's URL. */
  appUrl?: string | null;
}

/** The brand line at the top of a page, and the data attributes the bootstrap reads (`data-app-url`, `data-product-name`). */
export function brandHeader(brand: PageBrand | undefined): string {
  const name = brand?.productName?.trim() || 'Preview';
  const logo = brand?.logoUrl ? `<img class="logo" src="${escapeHtml(brand.logoUrl)}" alt="" width="28" height="28">` : '';
  return `<header class="brand">${logo}<span class="product">${escapeHtml(name)}</span></header>`;
}

export function brandAttributes(brand: PageBrand | undefined): string {
  const name = brand?.productName?.trim() || 'Preview';
  return ` data-product-name="${escapeHtml(name)}"${brand?.appUrl ? ` data-app-url="${escapeHtml(brand.appUrl)}"` : ''}`;
}

/** One stylesheet for the launch page and the error pages; inline, so it needs the CSP nonce. */
export const PAGE_STYLE = `
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; }
  main { max-width: 34rem; padding: 2rem; }
  .brand { display: flex; align-items: center; gap: .5rem; margin: 0 0 1.5rem; font-weight: 600; opacity: .8; }
  .brand .logo { width: 28px; height: 28px; object-fit: contain; }
  h1 { font-size: 1.25rem; line-height: 1.35; margin: 0 0 .5rem; }
  p { margin: 0 0 1rem; opacity: .85; }
  .actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: 1.25rem 0; }
  button, .button { font: inherit; padding: .45rem 1rem; border-radius: .4rem; border: 1px solid currentColor;
    background: transparent; color: inherit; cursor: pointer; text-decoration: none; }
  .primary { background: #2563eb; border-color: #2563eb; color: #fff; }
  .progress { font-size: .9rem; opacity: .7; }
  .code { font: 12px ui-monospace, monospace; opacity: .55; margin-top: 1.5rem; }
  .spinner { width: 1.5rem; height: 1.5rem; border: 3px solid #8884; border-top-color: #888; border-radius: 50%;
    animation: spin 1s linear infinite; margin: 0 0 1rem; }
  @keyframes spin { to { transform: rotate(360deg); } }
`;

/**
 * The `<head>` both gateway pages share: no Referer (the launch URL's fragment never leaves,
 * and no path leaks to other origins), an inline icon (no /favicon.ico request before the code
 * is exchanged), the nonce-bearing stylesheet and the bootstrap script (which reads the page).
 * `title` must already be escaped.
 */
export function pageHead(title: string, nonce: string | undefined): string {
  const n = nonceAttr(nonce);
  return `<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${title}</title>
<style${n}>${PAGE_STYLE}</style>
<script src="${GATE_PATHS.bootstrapScript}" defer${n}></script>
</head>`;
}
