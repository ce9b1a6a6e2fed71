// The sample app's entry. It runs once per page load: `window.__loadId` tells a full reload
// (new id) from a hot update (same id, only message.js replaced).
import { message } from './message.js';

window.__loadId = window.__loadId ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
window.__hmrUpdates = 0;
document.getElementById('loaded').textContent = new Date().toLocaleTimeString();

function render(text) {
  document.getElementById('message').textContent = text;
  document.documentElement.dataset.message = text;
}
render(message);

function hmrState(state) {
  const badge = document.getElementById('hmr');
  badge.textContent = state;
  badge.dataset.state = state;
  document.documentElement.dataset.hmr = state;
}

if (import.meta.hot) {
  // Accept new versions of message.js here: main.js (and the page) stay as they are.
  import.meta.hot.accept('./message.js', (mod) => {
    if (!mod) return;
    render(mod.message);
    window.__hmrUpdates += 1;
    window.__hmrAppliedAt = Date.now();
    document.getElementById('updates').textContent = String(window.__hmrUpdates);
  });
  import.meta.hot.on('vite:ws:connect', () => hmrState('connected'));
  import.meta.hot.on('vite:ws:disconnect', (data) => {
    hmrState('disconnected');
    reloadWhenServerIsBack(data?.webSocket?.url ?? `${location.origin.replace(/^http/, 'ws')}/`);
  });
  // The client's socket may already be open when this module runs: ping the server to find out.
  import.meta.hot.on('preview-gate:pong', () => hmrState('connected'));
  import.meta.hot.send('preview-gate:ping');
} else {
  hmrState('off');
}

/**
 * When the dev server goes away (restart), Vite's client waits for it with `vite-ping`
 * WebSockets opened from a SharedWorker, then reloads. Inside a cross-site iframe with
 * third-party cookies blocked, Chromium refuses that SharedWorker and Vite's client (8.x) never
 * notices, so the page would wait forever. The same pings from the page itself go through the
 * gateway fine (the partitioned cookie): try them too, after giving Vite's own a head start.
 */
function reloadWhenServerIsBack(socketUrl) {
  const url = new URL(socketUrl);
  url.search = '';
  const ping = () =>
    new Promise((resolve) => {
      const ws = new WebSocket(url.href, 'vite-ping');
      ws.onopen = () => {
        ws.close();
        resolve(true);
      };
      ws.onerror = () => resolve(false);
    });
  const attempt = async () => ((await ping()) ? location.reload() : setTimeout(attempt, 1000));
  setTimeout(attempt, 1500);
}
