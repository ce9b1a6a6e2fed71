// FRESH_LAUNCH_URL (`/launch?port=N`): mints a new one-time launch link and opens it, so a link
// printed by `npm run demo` never goes stale. The launch is bound to this page's origin (the
// API call's Origin) and the navigation comes from it, so the gateway signs in without asking
// (broker/core/limits/launch-binding.ts).
(async () => {
  const cfg = window.DEMO;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const port = Number(params.get('port') || cfg.port);
  try {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${params.get('port')}" is not a port number`);
    const s = await fetch(`${cfg.gatewayUrl}/api/demo/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: cfg.userId }),
    });
    if (!s.ok) throw new Error(`demo session: HTTP ${s.status}`);
    const { token } = await s.json();
    const res = await fetch(`${cfg.gatewayUrl}/api/previews`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: cfg.sandboxId, port, path: params.get('path') || '/' }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${res.status}`);
    location.replace(body.url);
  } catch (err) {
    $('title').textContent = 'The preview could not be opened';
    $('detail').textContent = 'Is `npm run demo` still running? Reload this page to try again.';
    $('error').hidden = false;
    $('error').textContent = err.message;
  }
})();
