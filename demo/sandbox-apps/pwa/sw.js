/* The sample PWA's own Service Worker (classic script). Precaches the app shell, answers
   navigations network-first with the cached offline page when the app cannot be reached,
   assets network-first with the cache as fallback, and /sw-version itself. API calls (/api/)
   it leaves to the network. Installs and takes over at once (skipWaiting + clients.claim),
   dropping the caches of older versions. */
const VERSION = '__VERSION__';
const CACHE = `pwa-sample-${VERSION}`;
const SHELL = ['/', '/offline.html', '/app.js', '/style.css', '/logo.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('pwa-sample-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** The network's answer, or a cached copy when the app is down (network error or 5xx). */
async function networkFirst(request, fallbackUrl) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.status < 500) {
      if (response.ok && request.method === 'GET') await cache.put(request, response.clone());
      return response;
    }
  } catch {
    /* unreachable: fall back to the cache */
  }
  return (await cache.match(fallbackUrl ?? request)) ?? Response.error();
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== 'GET') return;
  if (url.pathname === '/sw-version') {
    event.respondWith(new Response(JSON.stringify({ version: VERSION }), { headers: { 'content-type': 'application/json' } }));
    return;
  }
  if (url.pathname.startsWith('/api/')) return;
  if (event.request.mode === 'navigate') event.respondWith(networkFirst(event.request, '/offline.html'));
  else event.respondWith(networkFirst(event.request));
});
