/**
 * The HTML error page the gateway core answers to a browser navigation (Accept: text/html)
 * that fails with a coded error: what happened, the way out, and, through
 * /__gate/bootstrap.js, a `{type: 'error', code}` message to the embedding page so the embed
 * can report it and mint a new preview. Portable: a pure string.
 *
 * The `data-gate-code` attribute is read by the Service Worker (gate-error.ts) and the
 * bootstrap; keep it. Same headers as the launch page (see launch-page.ts).
 *
 * @example
 *   c.html(renderErrorPage({ code: err.code, message: err.message, nonce }), err.status)
 */
import type { ErrorCode } from '../../protocol/index.js';
import { failureText } from './failures.js';
import { escapeHtml, pageHead } from './html.js';

export interface ErrorPageOptions {
  code: ErrorCode;
  /** The gateway's message; shown under the explanation. Must hold no secret. */
  message: string;
  nonce?: string;
}

export function renderErrorPage(opts: ErrorPageOptions): string {
  const text = failureText(opts.code, opts.message);
  const code = escapeHtml(opts.code);
  return `<!doctype html>
<html lang="en">
${pageHead(escapeHtml(text.title), opts.nonce)}
<body data-gate-page="error" data-gate-code="${code}" data-gate-action="${text.action}">
<main id="preview-gate" role="alert">
<h1>${escapeHtml(text.title)}</h1>
<p>${escapeHtml(text.detail)}</p>
<p class="message">${escapeHtml(opts.message)}</p>
<div class="actions"><a class="button" href="" data-action="reload">Reload</a></div>
<p class="code">Error code: ${code}</p>
</main>
</body>
</html>
`;
}
