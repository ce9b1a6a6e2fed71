// The demo host app. A real IDE gets the user session from its own backend; this demo asks the
// gateway's demo-only endpoint (POST /api/demo/session, enabled in demo mode only).
/* global PreviewGate */
(() => {
  const cfg = window.DEMO;
  const $ = (id) => document.getElementById(id);
  const log = (line) => {
    $('log').textContent = `${new Date().toLocaleTimeString()} ${line}\n` + $('log').textContent;
  };

  let session = null;
  async function getSession() {
    if (session && session.expiresAt > Date.now() + 30_000) return session.token;
    const res = await fetch(`${cfg.gatewayUrl}/api/demo/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: cfg.userId }),
    });
    if (!res.ok) throw new Error(`demo session: HTTP ${res.status}`);
    const body = await res.json();
    // Re-ask after 5 minutes whatever the token says; demo tokens are short-lived anyway.
    session = { token: body.token, expiresAt: Date.now() + 5 * 60_000 };
    return session.token;
  }
  async function api(method, path, body) {
    const res = await fetch(`${cfg.gatewayUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await getSession()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      throw new Error(err.error ? `${err.error.code}: ${err.error.message}` : `HTTP ${res.status}`);
    }
    return res.status === 204 ? null : res.json();
  }

  // Tabs for the sandbox's apps (`?port=N`), when the page was given more than one.
  const params = new URLSearchParams(location.search);
  const apps = cfg.apps && cfg.apps.length ? cfg.apps : [{ port: cfg.port, label: `port ${cfg.port}` }];
  const chosen = apps.find((a) => a.port === Number(params.get('port'))) || apps.find((a) => a.port === cfg.port) || apps[0];
  cfg.port = chosen.port;
  if (apps.length > 1) {
    for (const app of apps) {
      const a = document.createElement('a');
      const query = new URLSearchParams(params);
      query.set('port', String(app.port));
      a.href = `?${query}`;
      a.textContent = app.label;
      if (app === chosen) a.setAttribute('aria-current', 'page');
      $('apps').append(a);
    }
  }

  $('user').textContent = cfg.userId;
  $('sandbox').textContent = cfg.sandboxId;
  $('port').textContent = String(cfg.port);

  const frame = $('preview');
  const state = (text, kind) => {
    $('preview-state').textContent = text;
    $('preview-state').className = `badge ${kind || ''}`;
  };
  frame.addEventListener('ready', (e) => {
    const path = e.detail.credentialPath || 'unknown';
    $('credential-path').textContent = path;
    $('credential-path').className = `badge ${path}`;
    document.body.dataset.credentialPath = path;
    document.body.dataset.previewState = 'ready';
    state('ready', path);
    if (frame.handle && frame.handle.iframe.src) $('preview-origin').textContent = new URL(frame.handle.iframe.src).origin;
    log(`ready via ${path} (session ${e.detail.sessionId})`);
  });
  frame.addEventListener('expired', (e) => {
    document.body.dataset.previewState = 'expired';
    document.body.dataset.lastCode = e.detail.code;
    // Unless a listener calls preventDefault(), the embed now mints a new preview by itself.
    state(`expired: ${e.detail.code}`, 'error');
    log(`expired: ${e.detail.code} ${e.detail.message}`);
  });
  frame.addEventListener('error', (e) => {
    document.body.dataset.previewState = 'error';
    document.body.dataset.lastCode = e.detail.code;
    state(`error: ${e.detail.code}`, 'error');
    log(`error: ${e.detail.code} ${e.detail.message}`);
  });

  PreviewGate.configure({ getSession });
  // ?worker=off: the cookie path only (to compare, or where a worker misbehaves).
  if (params.get('worker') === 'off') frame.setAttribute('worker', 'off');
  frame.setAttribute('sandbox', cfg.sandboxId);
  frame.setAttribute('port', String(cfg.port));
  frame.setAttribute('path', '/');

  $('reload').onclick = () => frame.handle && frame.handle.reload();
  $('open-tab').onclick = async () => {
    // Open the tab in the click (popup blockers), then point it at a fresh launch link.
    const tab = window.open('about:blank', '_blank');
    try {
      const url = await frame.handle.launchUrl();
      if (tab) {
        tab.opener = null;
        tab.location.href = url;
      }
      log('opened in a new tab');
    } catch (err) {
      if (tab) tab.close();
      log(`open in new tab failed: ${err.message}`);
    }
  };
  $('end-session').onclick = async () => {
    // revoke() dispatches `expired` at once: keep the preview down instead of relaunching it.
    const keepDown = (e) => e.preventDefault();
    frame.addEventListener('expired', keepDown, { once: true });
    try {
      await frame.handle.revoke();
      log('session ended (revoked); press Reload for a new one');
    } catch (err) {
      log(`revoke failed: ${err.message}`);
    } finally {
      frame.removeEventListener('expired', keepDown);
    }
  };

  // The API never returns a share's URL again (only its hash is stored): remember ours.
  const shareUrls = new Map();
  async function refreshShares() {
    try {
      const { shares } = await api('GET', `/api/shares?sandboxId=${encodeURIComponent(cfg.sandboxId)}`);
      const list = $('shares');
      list.replaceChildren();
      for (const s of shares.filter((x) => !x.revokedAt)) {
        const li = document.createElement('li');
        li.dataset.shareId = s.id;
        const a = document.createElement('a');
        const url = s.url || shareUrls.get(s.id);
        a.href = url || '#';
        a.target = '_blank';
        a.rel = 'noopener';
        a.style.color = '#9cf';
        a.textContent = url ? `share link, port ${s.port}${s.path || ''}` : `share ${s.id} (link shown once, when created)`;
        const when = document.createElement('div');
        when.textContent = `expires ${new Date(s.expiresAt).toLocaleString()}` + (s.useCount != null ? `, used ${s.useCount}×` : '');
        const revoke = document.createElement('button');
        revoke.textContent = 'Revoke';
        revoke.onclick = async () => {
          await api('DELETE', `/api/shares/${encodeURIComponent(s.id)}`).catch((e) => log(e.message));
          log(`share ${s.id} revoked`);
          void refreshShares();
        };
        li.append(a, when, revoke);
        list.append(li);
      }
    } catch (err) {
      log(`shares: ${err.message}`);
    }
  }
  $('share-create').onclick = async () => {
    try {
      const ttlSeconds = Number($('share-ttl').value) || 3600;
      const share = await api('POST', '/api/shares', { sandboxId: cfg.sandboxId, port: cfg.port, ttlSeconds });
      shareUrls.set(share.id, share.url);
      log(`share link created: ${share.url}`);
      await refreshShares();
    } catch (err) {
      log(`create share failed: ${err.message}`);
    }
  };
  void refreshShares();
})();
