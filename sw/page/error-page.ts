/**
 * The HTML error page the gateway core answers to a browser navigation (Accept: text/html)
 * that fails with a coded error: one sentence of what happened, one of what to do, buttons that
 * work without JavaScript (Reload; Back to the app when GATE_APP_URL is set), the code in small
 * print, and the operator's product name and logo on top. /__gate/bootstrap.js then tells the
 * embedding page (`{type: 'error' | 'waiting', code}`), puts the buttons that fit where the page
 * is (failure-view.ts), and on a waiting page (`app_not_listening`, `sandbox_starting`) checks
 * again with backoff and opens the app as soon as it answers (waiting.ts). Portable: a pure string.
 *
 * The `data-gate-code` attribute is read by the Service Worker (gate-error.ts), the bootstrap and
 * protocol/error-answer.ts; keep it. Same headers as the launch page (see launch-page.ts).
 *
 * @example
 *   c.html(renderErrorPage({ code: err.code, message: err.message, nonce }), err.status)
 */
import type { ErrorCode } from '../../protocol/index.js';
import { failureText, isWaitingCode } from './failures.js';
import { brandAttributes, brandHeader, escapeHtml, pageHead, type PageBrand } from './html.js';

export interface ErrorPageOptions {
  code: ErrorCode;
  /** The gateway's message: sent to the embedding page, not shown twice. Must hold no secret. */
  message: string;
  nonce?: string;
  brand?: PageBrand;
  /** The preview's sandbox port, for "Waiting for the app on port N". */
  port?: number | null;
}

/** Seconds between reloads of a waiting page in a browser without JavaScript. */
export const NOSCRIPT_RELOAD_SECONDS = 5;

export function renderErrorPage(opts: ErrorPageOptions): string {
  const text = failureText(opts.code, opts.message, { port: opts.port ?? null });
  const code = escapeHtml(opts.code);
  const waiting = isWaitingCode(opts.code);
  const appUrl = opts.brand?.appUrl;
  const back = appUrl ? `<a class="button" href="${escapeHtml(appUrl)}" data-action="back">Back to the app</a>` : '';
  // Without JavaScript a waiting page still comes back by itself (a <noscript> meta refresh
  // needs no script under the CSP); with it, waiting.ts backs off and stops after a while.
  const head = pageHead(escapeHtml(text.title), opts.nonce).replace(
    '</head>',
    waiting ? `<noscript><meta http-equiv="refresh" content="${NOSCRIPT_RELOAD_SECONDS}"></noscript>\n</head>` : '</head>',
  );
  return `<!doctype html>
<html lang="en">
${head}
<body data-gate-page="${waiting ? 'waiting' : 'error'}" data-gate-code="${code}" data-gate-action="${text.action}" data-gate-message="${escapeHtml(opts.message)}"${brandAttributes(opts.brand)}>
<main id="preview-gate" role="${waiting ? 'status' : 'alert'}" aria-live="polite">
${brandHeader(opts.brand)}
${waiting ? '<div class="spinner" aria-hidden="true"></div>\n' : ''}<h1>${escapeHtml(text.title)}</h1>
<p class="detail">${escapeHtml(text.detail)}</p>
${waiting ? '<p class="progress" aria-live="polite"></p>\n' : ''}<div class="actions"><a class="button" href="" data-action="reload">Reload</a>${back}</div>
<p class="code">Error code: ${code}</p>
</main>
</body>
</html>
`;
}
