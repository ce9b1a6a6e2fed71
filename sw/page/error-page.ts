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
import { GATE_PATHS, type ErrorCode } from '../../protocol/index.js';
import { failureText } from './failures.js';
import { PAGE_STYLE, escapeHtml, nonceAttr } from './html.js';

export interface ErrorPageOptions {
  code: ErrorCode;
  /** The gateway's message; shown under the explanation. Must hold no secret. */
  message: string;
  nonce?: string;
}

export function renderErrorPage(opts: ErrorPageOptions): string {
  const n = nonceAttr(opts.nonce);
  const text = failureText(opts.code, opts.message);
  const code = escapeHtml(opts.code);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(text.title)}</title>
<style${n}>${PAGE_STYLE}</style>
<script src="${GATE_PATHS.bootstrapScript}" defer${n}></script>
</head>
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
