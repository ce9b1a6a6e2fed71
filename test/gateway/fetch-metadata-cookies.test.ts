/**
 * The gateway's cookies count only on requests from the preview itself or navigations
 * (authenticate.ts#cookiesAccepted): every preview origin is on one site, so a sibling preview
 * (another user's sandbox app) gets our SameSite=Lax cookies sent along.
 */
import { describe, expect, it } from 'vitest';
import { cookiesAccepted } from '../../broker/core/authenticate.js';
import { makeGateway, SBX, SBX_PUBLIC } from './helpers.js';

const req = (method: string, headers: Record<string, string>) => new Request('http://3000-a.preview.localhost/x', { method, headers });

describe('cookiesAccepted (Fetch Metadata)', () => {
  it.each([
    ['GET', {}, true], // programs, older browsers
    ['POST', {}, true],
    ['PUT', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }, true],
    ['GET', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' }, true],
    ['GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }, true], // the host IDE's iframe
    ['HEAD', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, true],
    ['GET', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'websocket' }, true],
    ['PUT', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }, false], // a sibling preview
    ['GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }, false],
    ['GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' }, false],
    ['POST', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, false], // a form post from a sibling
    ['POST', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }, false],
    ['GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'websocket' }, false],
    ['GET', { 'sec-fetch-site': 'cross-site' }, false],
  ] as const)('%s %j → %s', (method, headers, expected) => {
    expect(cookiesAccepted(req(method, headers))).toBe(expected);
  });
});

describe('the cookie rule on the preview', () => {
  it("a sibling preview's credentialed request gets no credential from our cookies; the page itself and navigations do", async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    const sibling = t.origin('sbx-other');
    const put = await t.preview('/api', {
      method: 'PUT',
      headers: { cookie, origin: sibling, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', accept: 'application/json' },
    });
    expect(put.status).toBe(401);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('missing_credential');
    expect(put.headers.getSetCookie()).toEqual([]); // nothing rotated, nothing cleared
    expect(t.upstream.seen).toHaveLength(0);

    const ok = (h: Record<string, string>, method = 'GET') => t.preview('/page', { method, headers: { cookie, ...h } }).then((r) => r.status);
    expect(await ok({ 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }, 'PUT')).toBe(200);
    expect(await ok({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' })).toBe(200);
    expect(await ok({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' })).toBe(200);
    expect(await ok({})).toBe(200);
    expect(await ok({ 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' }, 'POST')).toBe(401);
  });

  it('a refused cookie does not trigger a renewal (no forced rotation by a sibling)', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    const refreshOnly = cookie.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;
    const r = await t.preview('/x', { method: 'POST', headers: { cookie: refreshOnly, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
    expect(r.status).toBe(401);
    expect(r.headers.getSetCookie()).toEqual([]);
    // The same refresh cookie still renews from the page itself: it was never rotated.
    const again = await t.preview('/x', { headers: { cookie: refreshOnly, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' } });
    expect(again.status).toBe(200);
    expect(again.headers.getSetCookie().some((c) => c.startsWith('__Host-pg-refresh='))).toBe(true);
  });

  it('header tokens are unaffected, and a public sandbox is still served without our cookies', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const h = { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' };
    expect((await t.preview('/x', { method: 'PUT', headers: { ...h, 'x-daytona-preview-token': grant.accessToken } })).status).toBe(200);
    expect((await t.preview('/x', { method: 'PUT', headers: { ...h, cookie: 'app=1' } }, SBX_PUBLIC)).status).toBe(200);
  });

  it('WebSocket upgrades follow the same rule: a same-origin handshake uses the cookie, a same-site one does not', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    const up = (site: string) =>
      t.gw.authorizeUpgrade(
        new Request(`${t.origin()}/ws`, { headers: { origin: t.origin(SBX), cookie, 'sec-fetch-site': site, 'sec-fetch-mode': 'websocket' } }),
      );
    expect((await up('same-origin')).ok).toBe(true);
    const sibling = await up('same-site');
    expect(sibling.ok ? 0 : sibling.response.status).toBe(401);
  });
});
