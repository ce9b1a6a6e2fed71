/** Small helpers for the server-rendered pages (pure strings, portable). */

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
