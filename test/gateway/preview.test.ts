import { describe, expect, it } from 'vitest';
import { GateError } from '../../protocol/index.js';
import { cookiePairs, makeGateway, SBX, SBX_PUBLIC } from './helpers.js';

const IFRAME = { 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' };

describe('preview origin: credentials and cookies', () => {
  it('the code exchange answers a TokenGrant and sets host-only Secure HttpOnly Lax cookies at top level', async () => {
    const t = await makeGateway();
    const { grant, cookies } = await t.launch();
    expect(grant).toMatchObject({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresAt: t.clock.now() + 300_000,
      refreshExpiresAt: t.clock.now() + 43_200_000,
    });
    expect(cookies).toHaveLength(2);
    for (const c of cookies) {
      expect(c).toMatch(/^__Host-pg-(access|refresh)=/);
      expect(c).toMatch(/; Path=\/;/);
      expect(c).toMatch(/; Secure; HttpOnly; SameSite=Lax$/);
      expect(c).not.toMatch(/Domain=/i);
    }
  });

  it('in a cross-site iframe the cookies are SameSite=None; Partitioned, and renewals keep that mode', async () => {
    const t = await makeGateway();
    const launchPage = await t.preview('/__gate/launch', { headers: IFRAME });
    expect(await launchPage.text()).toContain('data-cookie-mode="partitioned"');
    const { cookie, cookies } = await t.launch('bob', SBX, 3000, {}, { cookieMode: 'partitioned' });
    for (const c of cookies) expect(c).toMatch(/SameSite=None; Partitioned$/);
    t.clock.advance(301_000);
    const renewed = await t.preview('/', { headers: { cookie } });
    expect(renewed.status).toBe(200);
    const fresh = renewed.headers.getSetCookie();
    expect(fresh).toHaveLength(2);
    for (const c of fresh) expect(c).toMatch(/SameSite=None; Partitioned$/);
  });

  it('a cookie-only client never sees an expiry: the gateway renews server-side and sets fresh cookies', async () => {
    const t = await makeGateway();
    let { cookie } = await t.launch();
    for (let i = 0; i < 3; i++) {
      t.clock.advance(301_000);
      const res = await t.preview('/page', { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toHaveLength(2);
      cookie = cookiePairs(res.headers.getSetCookie());
    }
    expect(t.gw.metrics.value('pg_refresh_total', { result: 'rotated' })).toBe(3);
  });

  it('20 concurrent requests with the same expired cookie all succeed and get the same successor (grace window)', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.clock.advance(301_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.preview('/asset.js', { headers: { cookie } })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const refreshCookies = new Set(answers.map((a) => a.headers.getSetCookie().find((c) => c.startsWith('__Host-pg-refresh='))));
    expect(refreshCookies.size).toBe(1);
    // After the grace window, the old credential is a stolen one: the session ends.
    t.clock.advance(21_000);
    const late = await t.preview('/', { headers: { cookie } });
    expect(late.status).toBe(401);
    expect((await late.json()).error.code).toBe('refresh_reused');
    expect(late.headers.getSetCookie().every((c) => /Max-Age=0/.test(c))).toBe(true);
  });

  it('POST /__gate/refresh with the refresh token as Bearer rotates it and returns a TokenGrant', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const r1 = await t.preview('/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${grant.refreshToken}` } });
    expect(r1.status).toBe(200);
    const g1 = await r1.json();
    expect(g1.refreshToken).not.toBe(grant.refreshToken);
    expect(r1.headers.getSetCookie()).toEqual([]);
    // The JSON chain and the cookie chain are independent: the cookie still renews.
    const { cookie } = await t.launch();
    const viaCookie = await t.preview('/__gate/refresh', { method: 'POST', headers: { cookie } });
    expect(viaCookie.status).toBe(200);
    expect((await viaCookie.json()).refreshToken).toBe('');
    expect(viaCookie.headers.getSetCookie()).toHaveLength(2);
  });

  it('a header token is authoritative: an expired one is 401 token_expired (renewable), even with valid cookies', async () => {
    const t = await makeGateway();
    const { grant, cookie } = await t.launch();
    t.clock.advance(301_000);
    const res = await t.preview('/', { headers: { 'x-daytona-preview-token': grant.accessToken, cookie } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token".*error_code="token_expired"/);
  });

  it('Authorization: Bearer carrying our token authenticates and is stripped; an app Authorization passes', async () => {
    const t = await makeGateway();
    const { grant, cookie } = await t.launch();
    expect((await t.preview('/', { headers: { authorization: `Bearer ${grant.accessToken}` } })).status).toBe(200);
    expect(t.upstream.seen.at(-1)!.request.headers.get('authorization')).toBeNull();
    expect((await t.preview('/', { headers: { authorization: 'Bearer app-own-token', cookie } })).status).toBe(200);
    expect(t.upstream.seen.at(-1)!.request.headers.get('authorization')).toBe('Bearer app-own-token');
  });

  it('answers CORS preflights 204 like Daytona, without a credential, and never forwards them', async () => {
    const t = await makeGateway();
    const res = await t.preview('/api/data', {
      method: 'OPTIONS',
      headers: { origin: 'https://ide.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-custom' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ide.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(res.headers.get('access-control-allow-headers')).toBe('x-custom');
    expect(t.upstream.seen).toHaveLength(0);
  });

  it('a public sandbox is served without a credential; a private one says what is missing, as HTML to a browser', async () => {
    const t = await makeGateway();
    expect((await t.preview('/', {}, SBX_PUBLIC)).status).toBe(200);
    expect(t.upstream.seen[0]!.principal.kind).toBe('public');
    const html = await t.preview('/', { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } });
    expect(html.status).toBe(401);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const text = await html.text();
    expect(text).toContain('data-gate-code="missing_credential"');
    expect(text).toContain('missing_credential');
  });

  it('a stopped sandbox gets a clear page or JSON; a starting one a self-reloading page', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.upstream.respond = () => {
      throw new GateError('sandbox_stopped', 'The sandbox is stopped.');
    };
    const json = await t.preview('/', { headers: { cookie, accept: 'application/json' } });
    expect(json.status).toBe(503);
    expect(await json.json()).toEqual({ error: { code: 'sandbox_stopped', message: 'The sandbox is stopped.' } });
    const page = await t.preview('/', { headers: { cookie, accept: 'text/html' } });
    expect(await page.text()).toContain('Start it from the app, then reload this page.');
    t.upstream.respond = () => {
      throw new GateError('sandbox_starting', 'starting', { 'Retry-After': '1' });
    };
    const starting = await t.preview('/', { headers: { cookie, accept: 'text/html' } });
    expect(starting.status).toBe(503);
    expect(starting.headers.get('retry-after')).toBe('1');
    const body = await starting.text();
    // The waiting page (sw/page/waiting.ts checks again and opens the app); without JavaScript a refresh.
    expect(body).toMatch(/<noscript><meta http-equiv="refresh"/);
    expect(body).toContain('data-gate-page="waiting"');
    expect(body).toContain('data-gate-code="sandbox_starting"');
  });

  it('cookies from a renewal reach the browser even when the upstream then fails', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.clock.advance(301_000);
    t.upstream.respond = () => {
      throw new GateError('upstream_unavailable', 'down');
    };
    const res = await t.preview('/', { headers: { cookie } });
    expect(res.status).toBe(502);
    expect(res.headers.getSetCookie()).toHaveLength(2);
  });

  it('an unexpected exception is "internal" with no detail leaked', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.upstream.respond = () => {
      throw new Error('boom at /secret/path token=abcdefabcdefabcdefabcdefabcdef');
    };
    const res = await t.preview('/', { headers: { cookie } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/boom|secret|abcdef/);
    expect(JSON.stringify(t.logs)).not.toMatch(/abcdefabcdef/);
  });

  it('an app cannot set the gateway cookies (no session fixation by the sandbox)', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.upstream.respond = () => {
      const h = new Headers();
      h.append('set-cookie', '__Host-pg-access=attacker; Path=/; Secure');
      h.append('set-cookie', 'app=1; Path=/');
      return new Response('x', { headers: h });
    };
    const res = await t.preview('/', { headers: { cookie } });
    expect(res.headers.getSetCookie()).toEqual(['app=1; Path=/']);
  });

  it('logout revokes the session and clears the cookies', async () => {
    const t = await makeGateway();
    const { cookie, grant } = await t.launch();
    const out = await t.preview('/__gate/logout', { method: 'POST', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().every((c) => /Max-Age=0/.test(c))).toBe(true);
    expect((await t.preview('/', { headers: { 'x-daytona-preview-token': grant.accessToken } })).status).toBe(401);
  });

  it('/__gate/status reports whether the page is signed in', async () => {
    const t = await makeGateway();
    expect(await (await t.preview('/__gate/status')).json()).toEqual({ authenticated: false, code: 'missing_credential' });
    const { cookie } = await t.launch();
    expect(await (await t.preview('/__gate/status', { headers: { cookie } })).json()).toMatchObject({ authenticated: true, userId: 'bob' });
  });

  it('serves the Service Worker with Service-Worker-Allowed: / and the launch page without caching', async () => {
    const t = await makeGateway();
    const sw = await t.preview('/__gate/sw.js');
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    const launch = await t.preview('/__gate/launch');
    expect(launch.headers.get('cache-control')).toBe('no-store');
    expect(launch.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await launch.text()).toContain('/__gate/bootstrap.js');
  });

  it('logs one JSON line per request with the path but never the query or a credential', async () => {
    const t = await makeGateway();
    const { cookie, grant } = await t.launch();
    await t.preview('/page?secret=shh', { headers: { cookie } });
    const line = t.logs.filter((l) => l.event === 'request').at(-1)!.fields!;
    expect(line).toMatchObject({ method: 'GET', host: '3000-sbx-open.preview.localhost:8787', path: '/page', status: 200, user: 'bob' });
    expect(typeof line.ms).toBe('number');
    await t.preview('/other?__gate_share=zzz');
    expect(t.logs.filter((l) => l.event === 'request').at(-1)!.fields).toMatchObject({ path: '/other', status: 401, code: 'invalid_token' });
    const all = JSON.stringify(t.logs);
    expect(all).not.toContain('shh');
    expect(all).not.toContain(grant.accessToken);
    expect(all).not.toContain(grant.refreshToken);
  });
});

describe('public-sandbox lookups', () => {
  it('credential-less requests for made-up sandbox ids cannot flood the Daytona API', async () => {
    const t = await makeGateway();
    const before = t.daytona.calls;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => t.preview('/', {}, `made-up-${i}`, 3000)));
    // Looked up: private (401). Over the budget: a retryable 503, never a misleading "private".
    expect(answers.filter((a) => a.status === 401)).toHaveLength(20);
    const over = answers.filter((a) => a.status === 503);
    expect(over).toHaveLength(180);
    expect(over.every((a) => a.headers.get('retry-after') === '1')).toBe(true);
    expect(((await over[0]!.json()) as { error: { code: string } }).error.code).toBe('daytona_unavailable');
    expect(t.daytona.calls - before).toBeLessThanOrEqual(20);
    // Known public sandboxes keep working from the cache.
    t.clock.advance(1000);
    expect((await t.preview('/', {}, SBX_PUBLIC)).status).toBe(200);
  });

  it('made-up ids are remembered as not public (negative cache), so repeating them costs no lookup', async () => {
    const t = await makeGateway();
    for (let i = 0; i < 10; i++) expect((await t.preview('/', {}, 'made-up-x')).status).toBe(401);
    const before = t.daytona.calls;
    t.clock.advance(5_000);
    expect((await t.preview('/', {}, 'made-up-x')).status).toBe(401);
    expect(t.daytona.calls).toBe(before);
    t.clock.advance(6_000); // past NOT_PUBLIC_CACHE_TTL_MS: asked again
    expect((await t.preview('/', {}, 'made-up-x')).status).toBe(401);
    expect(t.daytona.calls).toBe(before + 1);
  });

  it('a known public sandbox stays served while made-up ids exhaust the budget', async () => {
    const t = await makeGateway();
    expect((await t.preview('/', {}, SBX_PUBLIC)).status).toBe(200);
    for (let round = 0; round < 3; round++) {
      t.clock.advance(9_000); // within PUBLIC_CACHE_TTL_MS of the first lookup, over three rounds
      await Promise.all(Array.from({ length: 100 }, (_, i) => t.preview('/', {}, `flood-${round}-${i}`)));
      expect((await t.preview('/', {}, SBX_PUBLIC)).status).toBe(200);
    }
  });

  it('Daytona unreachable: a retryable 503, not "private", and nothing is cached', async () => {
    const t = await makeGateway();
    const getSandbox = t.daytona.getSandbox;
    t.daytona.getSandbox = async () => {
      throw new Error('down');
    };
    const r = await t.preview('/', { headers: { accept: 'application/json' } }, SBX_PUBLIC);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('daytona_unavailable');
    expect(r.headers.get('retry-after')).not.toBeNull();
    t.daytona.getSandbox = getSandbox;
    expect((await t.preview('/', {}, SBX_PUBLIC)).status).toBe(200);
  });
});
