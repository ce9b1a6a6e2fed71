// Share links: create (TTL checked here against the gateway's bounds, before any request),
// the new link shown once with a Copy button, and the list of live links (expiry, uses, Revoke).
// The API never returns a share's URL again (the gateway stores only its hash), so the list
// shows the link only for shares made in this page view, and says so for the others.
(() => {
  const { cfg, api, log } = window.demoIde;
  const $ = (id) => document.getElementById(id);
  const { min, max } = cfg.shareTtl;

  const human = (s) =>
    s % 86400 === 0 ? `${s / 86400} day${s === 86400 ? '' : 's'}` : s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
  $('share-ttl').min = String(min);
  $('share-ttl').max = String(max);
  $('share-ttl-range').textContent = `In seconds, from ${min} (${human(min)}) to ${max} (${human(max)}).`;

  /** The TTL in the field, or the sentence that says what is wrong with it. */
  function ttl() {
    const raw = $('share-ttl').value.trim();
    const n = Number(raw);
    if (raw === '' || !Number.isInteger(n)) return { error: 'Enter a whole number of seconds.' };
    if (n < min) return { error: `Too short: a share link lives at least ${min} s (${human(min)}).` };
    if (n > max) return { error: `Too long: a share link lives at most ${max} s (${human(max)}).` };
    return { value: n };
  }
  function showError(message) {
    $('share-error').hidden = !message;
    $('share-error').textContent = message || '';
    $('share-ttl').setAttribute('aria-invalid', message ? 'true' : 'false');
  }
  $('share-ttl').addEventListener('input', () => showError(ttl().error));

  const shareUrls = new Map();
  async function refreshShares() {
    try {
      const { shares } = await api('GET', `/api/shares?sandboxId=${encodeURIComponent(cfg.sandboxId)}`);
      const live = shares.filter((x) => !x.revokedAt);
      const list = $('shares');
      list.replaceChildren();
      $('shares-empty').hidden = live.length > 0;
      for (const s of live) {
        const li = document.createElement('li');
        li.dataset.shareId = s.id;
        const title = document.createElement('div');
        const url = s.url || shareUrls.get(s.id);
        if (url) {
          const a = document.createElement('a');
          a.href = url;
          a.target = '_blank';
          a.rel = 'noopener';
          a.textContent = url;
          title.append(`Port ${s.port}${s.path || ''}: `, a);
        } else {
          title.textContent = `Port ${s.port}${s.path || ''}, link ${s.id.slice(0, 8)}… (shown once, when it was created)`;
        }
        const when = document.createElement('div');
        when.className = 'hint';
        when.textContent = `Expires ${new Date(s.expiresAt).toLocaleString()}` + (s.useCount != null ? `, opened ${s.useCount}×` : '');
        const revoke = document.createElement('button');
        revoke.type = 'button';
        revoke.textContent = 'Revoke';
        revoke.onclick = async () => {
          await api('DELETE', `/api/shares/${encodeURIComponent(s.id)}`).catch((e) => log(e.message));
          log(`share ${s.id} revoked`);
          if ($('new-share').dataset.shareId === s.id) $('new-share').hidden = true;
          void refreshShares();
        };
        li.append(title, when, revoke);
        list.append(li);
      }
    } catch (err) {
      log(`shares: ${err.message}`);
    }
  }

  $('share-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = ttl();
    showError(t.error);
    if (t.error) return;
    $('share-create').disabled = true;
    try {
      const share = await api('POST', '/api/shares', { sandboxId: cfg.sandboxId, port: cfg.port, ttlSeconds: t.value });
      shareUrls.set(share.id, share.url);
      $('new-share').hidden = false;
      $('new-share').dataset.shareId = share.id;
      $('new-share-port').textContent = String(cfg.port);
      $('new-share-url').textContent = share.url;
      $('new-share-copied').textContent = '';
      log(`share link created (${share.id})`);
      await refreshShares();
    } catch (err) {
      showError(`The share link was not created: ${err.message}`);
      log(`create share failed: ${err.message}`);
    } finally {
      $('share-create').disabled = false;
    }
  });

  $('new-share-copy').onclick = async () => {
    const url = $('new-share-url').textContent;
    try {
      await navigator.clipboard.writeText(url);
      $('new-share-copied').textContent = 'Copied to the clipboard.';
    } catch {
      // No clipboard permission (an insecure origin, a browser policy): select it for Ctrl+C.
      getSelection().selectAllChildren($('new-share-url'));
      $('new-share-copied').textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  };

  void refreshShares();
})();
