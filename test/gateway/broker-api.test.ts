import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../broker/core/store/memory.js';
import { makeGateway, SBX, SBX_ALICE, SBX_NOLABEL } from './helpers.js';

describe('broker API', () => {
  it('POST /api/previews answers 201 with a launch URL whose one-time code is in the fragment', async () => {
    const t = await makeGateway();
    const res = await t.api('/api/previews', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: SBX, port: 3000, path: '/app?x=1' }) });
    expect(res.status).toBe(201);
    const body = await res.json();
    const url = new URL(body.url);
    expect(url.origin).toBe(t.origin());
    expect(url.pathname).toBe('/__gate/launch');
    expect(url.search).toBe('');
    const frag = new URLSearchParams(url.hash.slice(1));
    expect(frag.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(frag.get('path')).toBe('/app?x=1');
    expect(body.sessionId).toEqual(expect.any(String));
    expect(body.expiresAt).toBe(t.clock.now() + 60_000);
  });

  it('applies the label policy: * for everyone, a list for its users, no label for nobody, unknown sandbox 404', async () => {
    const t = await makeGateway();
    const post = (user: string, sandboxId: string) => t.api('/api/previews', { method: 'POST', user, body: JSON.stringify({ sandboxId, port: 3000 }) });
    expect((await post('bob', SBX)).status).toBe(201);
    expect((await post('alice', SBX_ALICE)).status).toBe(201);
    expect((await post('carol', SBX_ALICE)).status).toBe(201);
    const denied = await post('bob', SBX_ALICE);
    expect(denied.status).toBe(403);
    expect((await denied.json()).error.code).toBe('forbidden');
    expect((await post('alice', SBX_NOLABEL)).status).toBe(403);
    const missing = await post('bob', 'no-such-sandbox');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('sandbox_not_found');
  });

  it('accepts a custom policy hook', async () => {
    const t = await makeGateway({}, { policy: (user, _s, port) => user.id === 'root' && port === 8080 });
    const post = (user: string, port: number) => t.api('/api/previews', { method: 'POST', user, body: JSON.stringify({ sandboxId: SBX_NOLABEL, port }) });
    expect((await post('root', 8080)).status).toBe(201);
    expect((await post('root', 3000)).status).toBe(403);
  });

  it('requires a valid user session and says why on 401', async () => {
    const t = await makeGateway();
    const none = await t.api('/api/previews', { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request", error_description="[^"]+", error_code="missing_credential"$/);
    const expired = await t.api('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.user('bob', { ttlSeconds: -10 })}` },
      body: '{}',
    });
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.code).toBe('token_expired');
    const forged = await t.api('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.user('bob', { secret: 'x'.repeat(40) })}` },
      body: '{}',
    });
    expect((await forged.json()).error.code).toBe('invalid_token');
  });

  it('DELETE /api/previews/{id}: owner only, 204', async () => {
    const t = await makeGateway();
    const { sessionId } = await t.launch('bob');
    expect((await t.api(`/api/previews/${sessionId}`, { method: 'DELETE', user: 'eve' })).status).toBe(403);
    expect((await t.api(`/api/previews/${sessionId}`, { method: 'DELETE', user: 'bob' })).status).toBe(204);
    expect((await t.api('/api/previews/nope', { method: 'DELETE', user: 'bob' })).status).toBe(404);
  });

  it('GET /api/previews/{id}: the owner sees the state (active, revoked, expired), no secret; others 403, unknown 404', async () => {
    const t = await makeGateway();
    const { sessionId } = await t.launch('bob');
    const get = (user: string, id = sessionId) => t.api(`/api/previews/${id}`, { user });
    const res = await get('bob');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toEqual({ sessionId, sandboxId: SBX, port: 3000, origin: t.origin(), state: 'active', expiresAt: t.clock.now() + 43_200_000 });
    expect(JSON.stringify(body)).not.toMatch(/token|code|refresh|secret/i);
    const other = await get('eve');
    expect(other.status).toBe(403);
    expect((await other.json()).error.code).toBe('forbidden');
    const unknown = await get('bob', 'no-such-session');
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('not_found');
    expect((await t.api(`/api/previews/${sessionId}`)).status).toBe(401); // no user session
    expect((await t.api(`/api/previews/${sessionId}`, { method: 'DELETE', user: 'bob' })).status).toBe(204);
    expect(await (await get('bob')).json()).toMatchObject({ sessionId, state: 'revoked' });
    expect((await get('eve')).status).toBe(403);
  });

  it('GET /api/previews/{id}: a session past its end is `expired` while the store holds it, 404 once forgotten', async () => {
    // A store that still returns the record past its end (a lagging clock, as a sweep or TTL may lag).
    const lagging = { now: 0 };
    const t = await makeGateway({}, { store: createMemoryStore({ clock: () => lagging.now, sweepIntervalMs: 0 }) });
    lagging.now = t.clock.now();
    const { sessionId } = await t.launch('bob');
    t.clock.advance(43_200_000);
    const res = await t.api(`/api/previews/${sessionId}`, { user: 'bob' });
    expect(res.status).toBe(200);
    expect((await res.json()).state).toBe('expired');
    lagging.now = t.clock.now();
    expect((await t.api(`/api/previews/${sessionId}`, { user: 'bob' })).status).toBe(404);
  });

  it('GET /api/previews/{id}: a session revoked for refresh reuse reads as revoked; the memory store forgets it at its end', async () => {
    const t = await makeGateway();
    const { sessionId, grant } = await t.launch('bob');
    const refresh = (token: string) => t.preview('/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await refresh(grant.refreshToken)).status).toBe(200);
    t.clock.advance(21_000); // past the grace window: presenting the rotated credential again is theft
    const reused = await refresh(grant.refreshToken);
    expect((await reused.json()).error.code).toBe('refresh_reused');
    expect(await (await t.api(`/api/previews/${sessionId}`, { user: 'bob' })).json()).toMatchObject({ state: 'revoked' });
    t.clock.advance(43_200_001);
    expect((await t.api(`/api/previews/${sessionId}`, { user: 'bob' })).status).toBe(404);
  });

  it('share links: create (bounded TTL), list with use counts, revoke (creator only)', async () => {
    const t = await makeGateway();
    const tooShort = await t.api('/api/shares', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: SBX, port: 3000, ttlSeconds: 5 }) });
    expect(tooShort.status).toBe(400);
    expect((await tooShort.json()).error.message).toMatch(/60 to 2592000/);
    const res = await t.api('/api/shares', {
      method: 'POST',
      user: 'bob',
      body: JSON.stringify({ sandboxId: SBX, port: 3000, ttlSeconds: 3600, path: '/docs' }),
    });
    expect(res.status).toBe(201);
    const share = await res.json();
    expect(share.url).toMatch(new RegExp(`^${t.origin()}/docs\\?__gate_share=`));
    expect(share.expiresAt).toBe(t.clock.now() + 3600_000);
    await t.preview(new URL(share.url).pathname + new URL(share.url).search);
    const list = await (await t.api(`/api/shares?sandboxId=${SBX}`, { user: 'bob' })).json();
    expect(list.shares).toEqual([expect.objectContaining({ id: share.id, useCount: 1, lastUsedAt: t.clock.now(), path: '/docs', revokedAt: null })]);
    expect((await (await t.api('/api/shares', { user: 'eve' })).json()).shares).toEqual([]);
    expect((await t.api(`/api/shares/${share.id}`, { method: 'DELETE', user: 'eve' })).status).toBe(403);
    expect((await t.api(`/api/shares/${share.id}`, { method: 'DELETE', user: 'bob' })).status).toBe(204);
  });

  it('demo session issuer exists only in demo mode', async () => {
    const prod = await makeGateway();
    expect((await prod.api('/api/demo/session', { method: 'POST', body: JSON.stringify({ userId: 'x' }) })).status).toBe(404);
    const demo = await makeGateway({ demo: true, userJwtSecret: undefined });
    const res = await demo.api('/api/demo/session', { method: 'POST', body: JSON.stringify({ userId: 'dora' }) });
    expect(res.status).toBe(200);
    const { token } = await res.json();
    const created = await demo.api('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ sandboxId: SBX, port: 3000 }),
    });
    expect(created.status).toBe(201);
  });

  it('CORS for configured host-app origins only', async () => {
    const t = await makeGateway({ allowedOrigins: ['https://ide.example'] });
    const pre = (origin: string) => t.preflight(origin);
    const ok = await pre('https://ide.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ide.example');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization/i);
    expect((await pre('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    // The embed's status check: a simple-method GET with Authorization still preflights.
    const preGet = await t.api('/api/previews/some-id', {
      method: 'OPTIONS',
      headers: { origin: 'https://ide.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preGet.status).toBe(204);
    expect(preGet.headers.get('access-control-allow-origin')).toBe('https://ide.example');
    expect(preGet.headers.get('access-control-allow-methods')).toMatch(/GET/);
    const { sessionId } = await t.launch('bob');
    const got = await t.api(`/api/previews/${sessionId}`, { user: 'bob', headers: { origin: 'https://ide.example' } });
    expect(got.status).toBe(200);
    expect(got.headers.get('access-control-allow-origin')).toBe('https://ide.example');
  });

  it('serves /healthz, /metrics, /embed.js; unknown paths and hosts are coded 404s', async () => {
    const t = await makeGateway({ gatewayHosts: ['127.0.0.1:8787'] });
    expect(await (await t.api('/healthz')).json()).toEqual({ status: 'ok' });
    await t.api('/healthz');
    const metrics = await (await t.api('/metrics')).text();
    expect(metrics).toMatch(/pg_http_requests_total\{class="2xx",host="gateway"\} \d/);
    expect(metrics).toMatch(/pg_http_request_duration_seconds_bucket/);
    expect(await (await t.api('/embed.js')).text()).toBe('/*embed*/');
    const nf = await t.api('/nope');
    expect(nf.status).toBe(404);
    expect((await nf.json()).error.code).toBe('not_found');
    const other = await t.gw.fetch(new Request('http://elsewhere.example/healthz'));
    expect(other.status).toBe(404);
    const badPreview = await t.gw.fetch(new Request('http://a.b.preview.localhost:8787/'));
    expect(badPreview.status).toBe(404);
  });

  it('answers 503 "assets not built" instead of crashing when dist/ is missing', async () => {
    const t = await makeGateway({}, { assets: {} });
    const res = await t.api('/embed.js');
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/assets not built/);
    expect((await t.preview('/__gate/sw.js')).status).toBe(503);
  });
});
