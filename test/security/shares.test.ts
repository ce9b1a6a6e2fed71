/**
 * Threats against share links: a revoked or expired link that keeps working, a path-scoped
 * link walked out of its scope, and the link's token leaking to the app or staying in the
 * address bar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, cookieHeaderOf, type Stack } from '../support/stack.js';
import { movableClock } from '../support/clock.js';

let stack: Stack;
const clock = movableClock();
beforeAll(async () => {
  stack = await startStack({ clock: clock.now });
});
afterAll(() => stack?.close());

async function share(body: Record<string, unknown>, user = 'bob') {
  const res = await stack.requestGateway('/api/shares', {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.mintUserSession(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId: stack.sandboxes.open, port: 3000, ttlSeconds: 3600, ...body }),
  });
  expect(res.status).toBe(201);
  const s = res.json<{ id: string; url: string }>();
  const u = new URL(s.url);
  return { ...s, pathAndQuery: u.pathname + u.search, token: u.searchParams.get('__gate_share')! };
}
const NAV = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' };
const get = (path: string, headers: Record<string, string> = {}) => stack.requestPreview(stack.sandboxes.open, 3000, path, { headers });

describe('share links', () => {
  it('a browser exchanges the link for cookies and is redirected to the same URL without the token', async () => {
    const s = await share({ path: '/api/echo?x=1' });
    const nav = await get(s.pathAndQuery, NAV);
    expect(nav.status).toBe(303);
    expect(nav.headers.get('location')).toBe(`${stack.previewOrigin(stack.sandboxes.open, 3000)}/api/echo?x=1`);
    // The two session cookies, and the share-end marker (no secret: the share's end, for the wording of a later refusal).
    expect(nav.setCookies).toHaveLength(3);
    expect(nav.setCookies[2]).toMatch(/^__Host-pg-share-end=\d+;/);
    const after = await get('/api/echo?x=1', { cookie: cookieHeaderOf(nav.setCookies), accept: 'application/json' });
    expect(after.status).toBe(200);
    expect(after.json<any>().headers['x-preview-gate-identity']).toBeTruthy();
  });

  it('a program (no navigation) is served directly, the token stripped from what the app sees', async () => {
    const s = await share({});
    const res = await get(`/api/echo?keep=1&__gate_share=${s.token}`, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const seen = res.json<any>();
    expect(seen.query).toEqual({ keep: '1' });
    expect(JSON.stringify(seen)).not.toContain(s.token);
    expect(res.setCookies).toEqual([]);
  });

  it('revoked share link: the link, and cookies obtained through it, stop at once', async () => {
    const s = await share({});
    const nav = await get(s.pathAndQuery, NAV);
    const cookie = cookieHeaderOf(nav.setCookies);
    expect((await get('/api/echo', { cookie })).status).toBe(200);
    const del = await stack.requestGateway(`/api/shares/${s.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}` },
    });
    expect(del.status).toBe(204);
    for (const res of [await get(`/api/echo?__gate_share=${s.token}`), await get('/api/echo', { cookie })]) {
      expect(res.status).toBe(401);
      expect(res.json<any>().error.code).toBe('share_revoked');
    }
    const page = await get(s.pathAndQuery, NAV);
    expect(page.status).toBe(401);
    expect(page.text).toContain('data-gate-code="share_revoked"');
  });

  it('expired share link: refused after its TTL, as is the session it opened', async () => {
    const s = await share({ ttlSeconds: 60 });
    const cookie = cookieHeaderOf((await get(s.pathAndQuery, NAV)).setCookies);
    clock.advance(61_000);
    const res = await get(`/api/echo?__gate_share=${s.token}`);
    expect(res.status).toBe(401);
    expect(res.json<any>().error.code).toBe('share_expired');
    const viaCookie = await get('/api/echo', { cookie });
    expect(viaCookie.status).toBe(401);
  });

  it('share path scope escape: sibling prefixes, dot segments and encoded slashes stay outside', async () => {
    const s = await share({ path: '/docs' });
    const cookie = cookieHeaderOf((await get(s.pathAndQuery, NAV)).setCookies);
    expect(cookie).not.toBe('');
    const inside = ['/docs', '/docs/', '/docs/a/b?x=1'];
    const outside = [
      '/',
      '/api/echo',
      '/docs-private',
      '/docs/../api/echo',
      '/docs/%2e%2e/api/echo',
      '/docs/..%2fapi/echo',
      '/docs%2f..%2fapi',
      '/docs/%2E%2E%2Fapi',
      '/DOCS/a',
    ];
    for (const p of inside) expect([p, (await get(p, { cookie })).status]).not.toEqual([p, 403]);
    for (const p of outside) {
      const viaCookie = await get(p, { cookie, accept: 'application/json' });
      expect([p, viaCookie.status]).toEqual([p, 403]);
      expect(viaCookie.json<any>().error.code).toBe('wrong_scope');
      const viaToken = await get(`${p}${p.includes('?') ? '&' : '?'}__gate_share=${s.token}`, { accept: 'application/json' });
      expect([p, viaToken.status]).toEqual([p, 403]);
    }
  });

  it('a share token is not an access token, and only opens its own port', async () => {
    const s = await share({});
    const asHeader = await get('/api/echo', { 'x-daytona-preview-token': s.token });
    expect(asHeader.json<any>().error.code).toBe('invalid_token');
    const other = await stack.requestPreview(stack.sandboxes.open, 8080, `/api/echo?__gate_share=${s.token}`);
    expect(other.status).toBe(403);
    expect(other.json<any>().error.code).toBe('wrong_scope');
  });

  it("lists the creator's shares with lastUsedAt and useCount, nobody else's", async () => {
    const s = await share({}, 'carol');
    await get(`/api/echo?__gate_share=${s.token}`);
    await get(`/api/echo?__gate_share=${s.token}`);
    const list = await stack.requestGateway(`/api/shares?sandboxId=${stack.sandboxes.open}`, {
      headers: { authorization: `Bearer ${await stack.mintUserSession('carol')}` },
    });
    expect(list.json<any>().shares).toEqual([expect.objectContaining({ id: s.id, useCount: 2, lastUsedAt: expect.any(Number) })]);
    const mallory = await stack.requestGateway(`/api/shares/${s.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.mintUserSession('mallory')}` },
    });
    expect(mallory.status).toBe(403);
  });
});
