/**
 * The access-token verification cache (broker/core/tokens/verify-cache.ts): it may only skip the
 * signature check of a token it already verified, never a revocation, scope or expiry check.
 */
import { describe, expect, it } from 'vitest';
import { base64url } from 'jose';
import { createVerifyCache } from '../../broker/core/tokens/verify-cache.js';
import { createKeyRing, type KeyRing } from '../../broker/core/tokens/keys.js';
import { createTokens } from '../../broker/core/tokens/tokens.js';
import { GateError } from '../../protocol/index.js';
import { makeGateway, SBX } from '../gateway/helpers.js';
import { authenticateStats } from '../../broker/core/authenticate.js';

const claims = { aud: 'http://3000-sbx.preview.localhost:8787', sub: 'bob', sid: 'sid-1', sbx: 'sbx', port: 3000, knd: 'session' as const };

/** A key ring that counts signature checks (each verification asks it for the key). */
function counting(ring: KeyRing): KeyRing & { lookups: number } {
  const r = { ...ring, lookups: 0, verifier: (kid: string | undefined) => (r.lookups++, ring.verifier(kid)) };
  return r;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return err instanceof GateError ? err.code : `unexpected ${String(err)}`;
  }
}

describe('verify cache (data structure)', () => {
  it('hits until min(exp, now + ttl), then misses', () => {
    const c = createVerifyCache<string>({ ttlMs: 1000 });
    c.set('t', 'claims', 10_000, 0);
    expect(c.get('t', 999)).toBe('claims');
    expect(c.get('t', 1000)).toBeUndefined();
    c.set('t2', 'claims', 500, 0); // exp sooner than the ttl
    expect(c.get('t2', 499)).toBe('claims');
    expect(c.get('t2', 500)).toBeUndefined();
  });

  it('is bounded: the oldest entry goes first', () => {
    const c = createVerifyCache<number>({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) c.set(`t${i}`, i, 1e9, 0);
    expect(c.size).toBe(3);
    expect(c.get('t0', 1)).toBeUndefined();
    expect(c.get('t1', 1)).toBeUndefined();
    expect(c.get('t4', 1)).toBe(4);
  });

  it('never stores an already expired entry; ttl 0 turns it off', () => {
    const c = createVerifyCache<number>();
    c.set('old', 1, 100, 100);
    expect(c.size).toBe(0);
    const off = createVerifyCache<number>({ ttlMs: 0 });
    off.set('t', 1, 1e9, 0);
    expect(off.get('t', 1)).toBeUndefined();
  });
});

describe('tokens.verifyAccess with the cache', () => {
  it('verifies the signature once per token while cached, and again after the ttl', async () => {
    let now = Date.UTC(2026, 0, 1);
    const ring = counting(await createKeyRing(() => now));
    const tokens = createTokens(ring, 'preview-gate', () => now);
    const { token } = await tokens.signAccess(claims, 300_000);
    expect((await tokens.verifyAccess(token)).sid).toBe('sid-1');
    expect((await tokens.verifyAccess(token)).sid).toBe('sid-1');
    expect(ring.lookups).toBe(1);
    now += 30_000; // default ttl: 30 s
    await tokens.verifyAccess(token);
    expect(ring.lookups).toBe(2);
  });

  it('refuses a cached token once it expires (token_expired, like an uncached one)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const tokens = createTokens(await createKeyRing(() => now), 'preview-gate', () => now, { accessVerifyCache: { ttlMs: 3_600_000 } });
    const { token, expiresAt } = await tokens.signAccess(claims, 60_000);
    await tokens.verifyAccess(token); // cached now, with a ttl far beyond exp
    now = expiresAt - 1;
    expect(await codeOf(tokens.verifyAccess(token))).toBe('accepted');
    now = expiresAt;
    expect(await codeOf(tokens.verifyAccess(token))).toBe('token_expired');
  });

  it('caches no failure: a forged token is checked (and refused) every time', async () => {
    const now = Date.UTC(2026, 0, 1);
    const ring = counting(await createKeyRing(() => now));
    const tokens = createTokens(ring, 'preview-gate', () => now);
    const { token } = await tokens.signAccess(claims, 300_000);
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p!)));
    const forged = [h, base64url.encode(JSON.stringify({ ...payload, sub: 'mallory' })), s].join('.');
    await tokens.verifyAccess(token);
    expect(await codeOf(tokens.verifyAccess(forged))).toBe('invalid_token');
    expect(await codeOf(tokens.verifyAccess(forged))).toBe('invalid_token');
    expect(ring.lookups).toBe(3);
    expect(tokens.isOurs(forged, 'pg-access+jwt')).toBe(true); // header only: still verified on use
  });

  it('hands out frozen claims (one object shared by every request with the token)', async () => {
    const now = Date.UTC(2026, 0, 1);
    const tokens = createTokens(await createKeyRing(() => now), 'preview-gate', () => now);
    const { token } = await tokens.signAccess(claims, 300_000);
    expect(Object.isFrozen(await tokens.verifyAccess(token))).toBe(true);
  });
});

describe('through the gateway, with the cache on', () => {
  it('revocation cuts a cached token off at once (the next request)', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch('bob');
    const headers = { 'x-daytona-preview-token': grant.accessToken, accept: 'application/json' };
    expect((await t.preview('/a', { headers })).status).toBe(200);
    expect((await t.preview('/b', { headers })).status).toBe(200); // served from the cache
    const del = await t.api(`/api/previews/${grant.sessionId}`, { method: 'DELETE', user: 'bob' });
    expect(del.status).toBeLessThan(300);
    const res = await t.preview('/c', { headers });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('session_revoked');
  });

  it('an expired token is refused even though it was verified (and cached) moments before', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch('bob');
    const headers = { 'x-daytona-preview-token': grant.accessToken, accept: 'application/json' };
    expect((await t.preview('/a', { headers })).status).toBe(200);
    t.clock.set(grant.expiresAt - 1000);
    expect((await t.preview('/b', { headers })).status).toBe(200);
    t.clock.set(grant.expiresAt);
    const res = await t.preview('/c', { headers });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token_expired');
  });

  it('scope is still checked on a cache hit: the token does not open another port', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch('bob');
    const headers = { 'x-daytona-preview-token': grant.accessToken, accept: 'application/json' };
    expect((await t.preview('/a', { headers })).status).toBe(200);
    const res = await t.preview('/a', { headers }, SBX, 3001);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('wrong_scope');
  });
});

describe('a cached access token is decided without waiting (authenticate.ts authenticateNow), with every check kept', () => {
  const codeOfAnswer = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('the header token: the first request verifies it, the next are decided at once; revocation still cuts it off', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch('bob');
    const headers = { 'x-daytona-preview-token': grant.accessToken, accept: 'application/json' };
    const before = authenticateStats.now;
    expect((await t.preview('/a', { headers })).status).toBe(200);
    expect(authenticateStats.now - before).toBe(0); // verified (ES256), then remembered
    expect((await t.preview('/b', { headers })).status).toBe(200);
    expect(authenticateStats.now - before).toBe(1);
    const del = await t.api(`/api/previews/${grant.sessionId}`, { method: 'DELETE', user: 'bob' });
    expect(del.status).toBeLessThan(300);
    const res = await t.preview('/c', { headers });
    expect(res.status).toBe(401);
    expect(await codeOfAnswer(res)).toBe('session_revoked');
    expect(authenticateStats.now - before).toBe(1);
  });

  it('the access cookie of a same-origin request is decided at once; a cross-site one is refused as before', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch('bob');
    const sameOrigin = { cookie, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', accept: 'application/json' };
    expect((await t.preview('/a', { headers: sameOrigin })).status).toBe(200);
    const before = authenticateStats.now;
    expect((await t.preview('/b', { headers: sameOrigin })).status).toBe(200);
    expect(authenticateStats.now - before).toBe(1);
    const crossSite = await t.preview('/b', { headers: { ...sameOrigin, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(401);
    expect(await codeOfAnswer(crossSite)).toBe('missing_credential');
    expect(authenticateStats.now - before).toBe(1);
  });

  it('a cached token for another port, a share link in the query and an Authorization header all take the full chain', async () => {
    const t = await makeGateway();
    const { grant, cookie } = await t.launch('bob');
    const headers = { 'x-daytona-preview-token': grant.accessToken, accept: 'application/json' };
    expect((await t.preview('/a', { headers })).status).toBe(200);
    const before = authenticateStats.now;
    const otherPort = await t.preview('/a', { headers }, SBX, 3001);
    expect(await codeOfAnswer(otherPort)).toBe('wrong_scope');
    // A share token in the query goes before the cookie (resolve's order): a bad one is refused.
    const sameOrigin = { cookie, 'sec-fetch-site': 'same-origin', accept: 'application/json' };
    const share = await t.preview('/a?__gate_share=not-a-token', { headers: sameOrigin });
    expect(share.status).toBe(401);
    // An Authorization header of the app's own passes through to the app, after the full chain.
    const authz = await t.preview('/a', { headers: { ...headers, authorization: 'Bearer app-token' } });
    expect(authz.status).toBe(200);
    expect(t.upstream.seen.at(-1)!.request.headers.get('authorization')).toBe('Bearer app-token');
    expect(authenticateStats.now - before).toBe(0);
    // Positive control: the same token on its own port is decided at once.
    expect((await t.preview('/a', { headers })).status).toBe(200);
    expect(authenticateStats.now - before).toBe(1);
  });
});
