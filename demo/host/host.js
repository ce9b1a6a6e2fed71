// The demo host app: the preview frame and its state. A real IDE gets the user session from its
// own backend; this demo asks the gateway's demo-only endpoint (POST /api/demo/session, enabled
// in demo mode only). shares.js and sandbox.js use what this script puts on `window.demoIde`.
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
      throw new Error(err.error ? `${err.error.message} (${err.error.code})` : `HTTP ${res.status}`);
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

  // Over the frame when there is nothing to use in it (session ended, sandbox stopped): what
  // happened and the one button that gets the preview back.
  function overlay(show) {
    $('overlay').hidden = !show;
    if (!show) return;
    $('overlay-title').textContent = show.title;
    $('overlay-text').textContent = show.text;
    $('overlay-action').textContent = show.action;
    $('overlay-action').onclick = show.onAction;
  }

  const frame = $('preview');
  // kind: ok (green: working), busy (blue: on its way), off (grey: stopped on purpose), bad (red: failed).
  const state = (name, text, kind) => {
    document.body.dataset.previewState = name;
    $('preview-state').textContent = text;
    $('preview-state').className = `badge ${kind}`;
  };
  const showOrigin = () => {
    if (frame.handle && frame.handle.iframe && frame.handle.iframe.src) $('preview-origin').textContent = new URL(frame.handle.iframe.src).origin;
  };
  frame.addEventListener('ready', (e) => {
    const path = e.detail.credentialPath || 'unknown';
    $('credential-path').textContent = path === 'worker' ? 'Service Worker' : path === 'cookie' ? 'cookie' : path;
    $('credential-path').className = 'badge off';
    document.body.dataset.credentialPath = path;
    state('ready', 'ready', 'ok');
    overlay(null);
    showOrigin();
    log(`ready via ${path} (session ${e.detail.sessionId})`);
  });
  // The gateway's waiting page is up: nothing listens on the port yet (`app_not_listening`), or
  // the sandbox is starting (`sandbox_starting`); `ready` follows by itself.
  frame.addEventListener('waiting', (e) => {
    const d = e.detail || {};
    showOrigin();
    state('waiting', d.code === 'sandbox_starting' ? 'waiting for the sandbox to start' : `waiting for the app on port ${cfg.port}`, 'busy');
    log(`waiting: ${d.code || 'app_not_listening'} ${d.message || ''}`.trim());
  });
  frame.addEventListener('expired', (e) => {
    document.body.dataset.lastCode = e.detail.code;
    // Unless a listener calls preventDefault(), the embed now mints a new preview by itself.
    state('expired', `expired (${e.detail.code}): renewing`, 'busy');
    log(`expired: ${e.detail.code} ${e.detail.message}`);
  });
  // A stopped or starting sandbox is a state the person chose or waits for, not a failure.
  const SANDBOX_STATES = { sandbox_stopped: ['sandbox stopped', 'off'], sandbox_starting: ['sandbox starting', 'busy'] };
  frame.addEventListener('error', (e) => {
    document.body.dataset.lastCode = e.detail.code;
    const known = SANDBOX_STATES[e.detail.code];
    state('error', known ? known[0] : `error: ${e.detail.code}`, known ? known[1] : 'bad');
    log(`error: ${e.detail.code} ${e.detail.message}`);
  });

  PreviewGate.configure({ getSession });
  // ?worker=off: the cookie path only (to compare, or where a worker misbehaves).
  if (params.get('worker') === 'off') frame.setAttribute('worker', 'off');
  frame.setAttribute('sandbox', cfg.sandboxId);
  frame.setAttribute('port', String(cfg.port));
  // An app on several ports (the two-port sample): one launch grants them all.
  if (chosen.ports && chosen.ports.length) frame.setAttribute('ports', chosen.ports.join(' '));
  frame.setAttribute('path', '/');

  const reload = () => {
    overlay(null);
    state('loading', 'loading', 'busy');
    if (frame.handle) frame.handle.reload();
  };
  $('reload').onclick = reload;
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
      // The embed now covers the frame with its own ended panel (sw/embed/ended-panel.ts, Start
      // again): the page only reflects the state, no overlay of its own on top of it. Its Start
      // again relaunches, and the next `ready` turns the badge green again.
      state('ended', 'session ended', 'off');
      log('session ended (revoked)');
    } catch (err) {
      log(`revoke failed: ${err.message}`);
    } finally {
      frame.removeEventListener('expired', keepDown);
    }
  };

  window.demoIde = { cfg, api, log, overlay, reload, state };
})();
