/**
 * Static subresources of the inspector page. `/app.js` runs every check and records its
 * result in the DOM; see the contract in demo/emulator/README.md ("Inspector DOM contract").
 * Only relative URLs are used: the page is served through gateways on other origins.
 */

/** A real 2×2 PNG (opaque red), so `naturalWidth` proves the image decoded. */
export const IMAGE_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8DwnwGMgRQAH+4D/dJQfRoAAAAASUVORK5CYII=', 'base64');

/** The stylesheet: the page checks that `#style-probe` really got this width. */
export const STYLE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
#style-probe { width: 42px; height: 1px; }
.ok { color: #070; } .fail { color: #b00; }
`;

/** Check names, in the order they are listed on the page. */
export const CHECKS = ['script', 'style', 'image', 'fetch', 'post', 'ws', 'sse', 'download'] as const;
export type CheckName = (typeof CHECKS)[number];

/** Bytes the page downloads through `/download`. */
export const PAGE_DOWNLOAD_BYTES = 256 * 1024;

export const APP_JS = `(() => {
  'use strict';
  const root = document.documentElement;
  const state = window.__inspector;
  const TIMEOUT_MS = 10000;
  const key = (name) => 'check' + name[0].toUpperCase() + name.slice(1);
  function record(name, result) {
    if (state.results[name] !== 'pending') return;
    state.results[name] = result;
    root.dataset[key(name)] = result;
    const cell = document.getElementById('result-' + name);
    if (cell) { cell.textContent = result; cell.className = result === 'ok' ? 'ok' : 'fail'; }
    if (Object.values(state.results).every((r) => r !== 'pending')) {
      state.done = true;
      root.dataset.inspectorDone = 'true';
    }
  }
  function run(name, fn) {
    const timer = setTimeout(() => record(name, 'fail:timeout'), TIMEOUT_MS);
    Promise.resolve().then(fn).then(
      (r) => record(name, r === true ? 'ok' : 'fail:' + String(r)),
      (e) => record(name, 'fail:' + (e && e.message ? e.message : String(e))),
    ).finally(() => clearTimeout(timer));
  }
  record('script', 'ok');
  run('style', () => new Promise((resolve) => {
    const check = () => resolve(getComputedStyle(document.getElementById('style-probe')).width === '42px' || 'stylesheet-not-applied');
    const link = document.getElementById('stylesheet');
    if (link.sheet) check(); else { link.addEventListener('load', check); link.addEventListener('error', () => resolve('stylesheet-error')); }
  }));
  run('image', () => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(img.naturalWidth === 2 || 'width-' + img.naturalWidth);
    img.onerror = () => resolve('image-error');
    img.src = '/image.png';
  }));
  run('fetch', async () => {
    const res = await fetch('/api/echo', { headers: { 'X-Inspector-Custom': '1', Accept: 'application/json' } });
    if (!res.ok) return 'status-' + res.status;
    const body = await res.json();
    return body.headers['x-inspector-custom'] === '1' || 'custom-header-missing';
  });
  run('post', async () => {
    const payload = JSON.stringify({ hello: 'inspector', n: 42 });
    const res = await fetch('/api/echo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: payload });
    if (!res.ok) return 'status-' + res.status;
    const body = await res.json();
    return (body.method === 'POST' && body.bodySize === payload.length) || 'body-' + body.bodySize;
  });
  run('ws', () => new Promise((resolve) => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    const message = 'inspector-' + Math.random().toString(36).slice(2);
    ws.onopen = () => ws.send(message);
    ws.onmessage = (e) => { resolve(e.data === message || 'wrong-echo'); ws.close(); };
    ws.onerror = () => resolve('ws-error');
    ws.onclose = (e) => resolve('closed-' + e.code);
  }));
  run('sse', () => new Promise((resolve) => {
    const es = new EventSource('/events');
    let n = 0;
    es.onmessage = () => { if (++n === 3) { es.close(); resolve(true); } };
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) resolve('sse-error-after-' + n); };
  }));
  run('download', async () => {
    const expected = ${PAGE_DOWNLOAD_BYTES};
    const res = await fetch('/download?bytes=' + expected);
    if (!res.ok || !res.body) return 'status-' + res.status;
    const reader = res.body.getReader();
    let total = 0, pos = 0, good = true;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let i = 0; i < value.length; i += 4096) if (value[i] !== (pos + i) % 251) good = false;
      total += value.length; pos += value.length;
    }
    return (total === expected && good) || 'got-' + total + (good ? '' : '-corrupt');
  });
})();
`;
