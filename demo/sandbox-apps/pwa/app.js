// The sample PWA's page script: registers the app's own worker at scope `/` (as a PWA or
// vite-plugin-pwa does), then calls the app's API. `window.__pwa` is what tests read.
const state = { registered: 'pending', controller: null, version: null, api: null };
window.__pwa = state;
const $ = (id) => document.getElementById(id);

async function showVersion() {
  // The app's worker answers /sw-version itself; without it the server answers "none".
  const res = await fetch('/sw-version', { cache: 'no-store' });
  state.version = (await res.json()).version;
  $('version').textContent = state.version;
}

async function main() {
  try {
    // `?module` in the page's address: the worker is registered as an ES module (`type: 'module'`,
    // as vite-plugin-pwa does in development); the server then serves it as one (an `export`).
    const asModule = new URLSearchParams(location.search).has('module');
    const reg = await navigator.serviceWorker.register(asModule ? '/sw.js?module' : '/sw.js', { scope: '/', ...(asModule ? { type: 'module' } : {}) });
    await navigator.serviceWorker.ready;
    state.registered = 'ok';
    state.scriptURL = (reg.active || reg.waiting || reg.installing)?.scriptURL ?? null;
    $('worker').textContent = 'registered';
  } catch (err) {
    state.registered = `fail:${err?.name}: ${err?.message}`;
    $('worker').textContent = state.registered;
  }
  state.controller = navigator.serviceWorker.controller?.scriptURL ?? null;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    state.controller = navigator.serviceWorker.controller?.scriptURL ?? null;
  });
  const api = await fetch('/api/whoami', { headers: { accept: 'application/json' } });
  state.api = api.ok ? await api.json() : { status: api.status };
  $('api').textContent = api.ok ? `ok (${api.status})` : `failed (${api.status})`;
  await showVersion();
  document.documentElement.dataset.pwaDone = 'true';
}

main();
