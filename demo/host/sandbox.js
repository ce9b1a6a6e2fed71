// The sample sandbox's controls (demo/controls.ts through demo/host/server.ts): stop and start
// the sandbox, start its dev server late. The page polls the state so it also shows changes made
// elsewhere (the Daytona API, another tab).
(() => {
  const { cfg, log, reload } = window.demoIde;
  if (!cfg.controls) return;
  const $ = (id) => document.getElementById(id);
  $('sandbox-controls').hidden = false;

  // started green, on-the-way blue, stopped/archived grey, anything else red.
  const kindOf = (s) => (s === 'started' ? 'ok' : /ing$/.test(s) ? 'busy' : ['stopped', 'paused', 'archived'].includes(s) ? 'off' : 'bad');
  let busy = false;
  function show(status) {
    const s = status.sandbox;
    document.body.dataset.sandboxState = s;
    $('sandbox-state').textContent = s;
    $('sandbox-state').className = `badge ${kindOf(s)}`;
    $('sandbox-stop').disabled = busy || s !== 'started';
    $('sandbox-start').disabled = busy || s === 'started' || /ing$/.test(s);
    const dev = status.devServer;
    $('dev-server').hidden = !dev;
    if (!dev) return;
    document.body.dataset.devServer = dev.running ? 'running' : 'not-running';
    $('dev-server-port').textContent = String(dev.port);
    $('dev-server-state').textContent = dev.running ? 'listening' : 'not started';
    $('dev-server-state').className = `badge ${dev.running ? 'ok' : 'off'}`;
    $('dev-server-start').disabled = busy || dev.running;
    $('dev-server-stop').disabled = busy || !dev.running;
    $('dev-server-hint').textContent =
      cfg.port === dev.port
        ? dev.running
          ? 'The dev server answers: the preview shows the app.'
          : 'Nothing listens on this port yet: the preview waits for it. Press "Start dev server" and watch the preview turn into the app by itself.'
        : `Open the "Late dev server" app above (port ${dev.port}) to watch the preview wait for this dev server.`;
  }
  async function status() {
    const res = await fetch('/demo/status', { cache: 'no-store' });
    if (!res.ok) throw new Error(`status: HTTP ${res.status}`);
    return res.json();
  }
  async function act(path, what, after) {
    busy = true;
    show(await status().catch(() => ({ sandbox: 'unknown', devServer: null })));
    log(`${what}…`);
    try {
      const res = await fetch(path, { method: 'POST' });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
      busy = false;
      show(body);
      log(`${what}: done`);
      if (after) after(body);
    } catch (err) {
      busy = false;
      log(`${what} failed: ${err.message}`);
    }
  }
  $('sandbox-stop').onclick = () => act('/demo/sandbox/stop', 'stopping the sandbox', reload);
  $('sandbox-start').onclick = () => act('/demo/sandbox/start', 'starting the sandbox', reload);
  $('dev-server-start').onclick = () =>
    act('/demo/dev-server/start', 'starting the dev server', (s) => {
      // The gateway's waiting page turns into the app by itself; anything else needs a reload.
      if (s.devServer && cfg.port === s.devServer.port && document.body.dataset.previewState !== 'waiting') reload();
    });
  $('dev-server-stop').onclick = () =>
    act('/demo/dev-server/stop', 'stopping the dev server', (s) => {
      if (s.devServer && cfg.port === s.devServer.port) reload();
    });

  const poll = async () => {
    if (!busy) show(await status().catch(() => ({ sandbox: 'unknown', devServer: null })));
  };
  void poll();
  setInterval(poll, 3000);
})();
