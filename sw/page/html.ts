/** Small helpers for the server-rendered pages (pure strings, portable). */
import { GATE_PATHS } from '../../protocol/index.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function nonceAttr(nonce: string | undefined): string {
  return nonce ? ` nonce="${escapeHtml(nonce)}"` : '';
}

/** One stylesheet for the launch page and the error pages; inline, so it needs the CSP nonce. */
export const PAGE_STYLE = `
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; }
  main { max-width: 34rem; padding: 2rem; }
  h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
  p { margin: 0 0 1rem; opacity: .85; }
  .actions { display: flex; gap: .5rem; flex-wrap: wrap; }
  button, .button { font: inherit; padding: .4rem .9rem; border-radius: .4rem; border: 1px solid currentColor;
    background: transparent; color: inherit; cursor: pointer; text-decoration: none; }
  .code { font: 12px ui-monospace, monospace; opacity: .6; }
  .spinner { width: 1.5rem; height: 1.5rem; border: 3px solid #8884; border-top-color: #888; border-radius: 50%;
    animation: spin 1s linear infinite; margin: 0 auto 1rem; }
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
