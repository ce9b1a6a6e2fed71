/**
 * The inspector's HTML page. An inline script sets up `window.__inspector` and marks every
 * check `pending`; `/app.js` runs them. If `/app.js` has not run by DOMContentLoaded, the inline
 * fallback marks `script` failed and the others `fail:script-not-loaded`, so a test never waits.
 */
import { CHECKS } from './assets.js';
import type { RequestReport } from './echo.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function rows(entries: [string, unknown][]): string {
  if (entries.length === 0) return '<tr><td colspan="2"><em>none</em></td></tr>';
  return entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(Array.isArray(v) ? v.join(', ') : String(v))}</td></tr>`).join('\n');
}

export function renderPage(report: RequestReport): string {
  // `<` escaped so a header value cannot close the JSON script element.
  const json = JSON.stringify(report).replace(/</g, '\\u003c');
  const checkRows = CHECKS.map((c) => `<tr><th>${c}</th><td id="result-${c}">pending</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head>
<meta charset="utf-8"><title>Sandbox inspector</title>
<link id="stylesheet" rel="stylesheet" href="/style.css">
<script>
(() => {
  const checks = ${JSON.stringify(CHECKS)};
  const results = {};
  for (const c of checks) { results[c] = 'pending'; document.documentElement.dataset['check' + c[0].toUpperCase() + c.slice(1)] = 'pending'; }
  window.__inspector = { results, done: false, request: ${json} };
  // Deferred scripts run before DOMContentLoaded: if /app.js has not run by then, it never will
  // (blocked, redirected to a sign-in page, not JavaScript...).
  document.addEventListener('DOMContentLoaded', () => {
    if (results.script !== 'pending') return;
    for (const c of checks) { results[c] = c === 'script' ? 'fail:not-loaded' : 'fail:script-not-loaded'; document.documentElement.dataset['check' + c[0].toUpperCase() + c.slice(1)] = results[c]; }
    window.__inspector.done = true;
    document.documentElement.dataset.inspectorDone = 'true';
  });
})();
</script>
<script src="/app.js" defer></script>
</head><body>
<h1>Sandbox inspector</h1>
<div id="style-probe"></div>
<h2>Checks</h2>
<table id="checks">${checkRows}</table>
<h2>This document request</h2>
<table id="request">
<tr><th>method</th><td id="req-method">${escapeHtml(report.method)}</td></tr>
<tr><th>path</th><td id="req-path">${escapeHtml(report.path)}</td></tr>
</table>
<h3>Query</h3><table id="req-query">${rows(Object.entries(report.query))}</table>
<h3>Headers</h3><table id="req-headers">${rows(Object.entries(report.headers))}</table>
<h3>Cookies</h3><table id="req-cookies">${rows(Object.entries(report.cookies))}</table>
<script type="application/json" id="inspector-request">${json}</script>
</body></html>
`;
}
