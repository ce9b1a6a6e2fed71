/**
 * The gateway's pages say what happened (issue 14): a share link reloaded after its end says
 * "this share link has expired", not "this preview is private"; pages carry the operator's
 * product name and the host app's URL. In-process gateway (test/gateway/helpers.ts).
 */
import { describe, expect, it } from 'vitest';
import { makeGateway, SBX } from './helpers.js';

const NAV = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' };

/** The cookie jar of a browser: Set-Cookie lines kept while their Max-Age runs (by the test clock). */
function jar(now: () => number) {
  const cookies = new Map<string, { value: string; until: number }>();
  return {
    take(setCookies: string[]) {
      for (const line of setCookies) {
        const [pair] = line.split(';', 1);
        const eq = pair!.indexOf('=');
        const maxAge = Number(/Max-Age=(\d+)/.exec(line)?.[1] ?? '0');
        if (maxAge <= 0) cookies.delete(pair!.slice(0, eq));
        else cookies.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), until: now() + maxAge * 1000 });
      }
    },
    header() {
      return [...cookies]
        .filter(([, c]) => c.until > now())
        .map(([n, c]) => `${n}=${c.value}`)
        .join('; ');
    },
  };
}

describe('an expired share link, reloaded in the same browser', () => {
  it('says "this share link has expired" (share_expired), not "private"; a browser that never had a share is told "private"', async () => {
    const t = await makeGateway();
    const res = await t.api('/api/shares', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: SBX, port: 3000, ttlSeconds: 120 }) });
    const share = (await res.json()) as { url: string };
    const browser = jar(() => t.clock.now());
    const url = new URL(share.url);
    const first = await t.preview(url.pathname + url.search, { headers: NAV });
    expect(first.status).toBe(303);
    browser.take(first.headers.getSetCookie());
    expect(first.headers.getSetCookie().some((c) => c.startsWith('__Host-pg-share-end='))).toBe(true);
    // While the share lives the browser is served (positive control).
    expect((await t.preview('/', { headers: { ...NAV, cookie: browser.header() } })).status).toBe(200);
    // After its end: the session cookies are gone from the jar, the marker is not.
    t.clock.advance(121_000);
    expect(browser.header()).not.toContain('__Host-pg-refresh');
    const after = await t.preview('/', { headers: { ...NAV, cookie: browser.header() } });
    expect(after.status).toBe(401);
    const html = await after.text();
    expect(html).toContain('data-gate-code="share_expired"');
    expect(html).toContain('This share link has expired.');
    // A browser with no share behind it: private.
    const stranger = await t.preview('/', { headers: NAV });
    expect(await stranger.text()).toContain('data-gate-code="missing_credential"');
  });

  it('a marker naming a time still to come changes nothing (the share has not ended): "private"', async () => {
    const t = await makeGateway();
    const res = await t.preview('/', { headers: { ...NAV, cookie: `__Host-pg-share-end=${t.clock.now() + 60_000}` } });
    expect(await res.text()).toContain('data-gate-code="missing_credential"');
  });
});

describe('branding and the way back', () => {
  it('error pages carry the product name, the logo (allowed by the CSP) and Back to the app', async () => {
    const t = await makeGateway({ productName: 'Acme IDE', productLogoUrl: 'https://cdn.example.com/acme.svg', appUrl: 'https://ide.example.com/' });
    const res = await t.preview('/', { headers: NAV });
    const html = await res.text();
    expect(html).toContain('<span class="product">Acme IDE</span>');
    expect(html).toContain('src="https://cdn.example.com/acme.svg"');
    expect(html).toContain('href="https://ide.example.com/" data-action="back"');
    expect(res.headers.get('content-security-policy')).toContain("img-src 'self' data: https://cdn.example.com;");
    const launch = await t.preview('/__gate/launch', { headers: NAV });
    expect(await launch.text()).toContain('data-app-url="https://ide.example.com/"');
  });
});
