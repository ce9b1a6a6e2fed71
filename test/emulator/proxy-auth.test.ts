/**
 * The preview proxy's rules, over raw HTTP (node:http to 127.0.0.1 with a Host header), as
 * docs/daytona.md states them: auth order and what is stripped before the app (proved with the
 * inspector's /api/echo), the 307 on failure, signed tokens and their cookie.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { proxyRequest } from './proxy-request.js';

let emu: Emulator;
let id: string;
let token: string;
let url: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ({ id } = await emu.createSandbox({ labels: { suite: 'auth' } }));
  token = emu.standardToken(id);
  url = emu.previewUrl(id, 3000);
});
afterAll(() => emu.close());
afterEach(() => {
  vi.useRealTimers();
});

function expectAuthRedirect(res: { status: number; headers: Record<string, unknown> }, sandboxId = id): void {
  expect(res.status).toBe(307);
  const location = String(res.headers.location);
  expect(location.startsWith(`http://127.0.0.1:${emu.port}/idp/authorize?`)).toBe(true);
  const query = new URL(location).searchParams;
  expect(query.get('code_challenge_method')).toBe('S256');
  expect(query.get('redirect_uri')).toBe(`http://3000-${sandboxId}.proxy.localhost:${emu.port}/callback`);
  expect(String(res.headers['set-cookie'])).toMatch(/^pkce_verifier=[\w-]+; Path=\/; Max-Age=300; HttpOnly$/);
}

describe('without a working credential', () => {
  it('no credential, a wrong token, a wrong API key or a wrong query key all get the same 307 to the identity provider', async () => {
    expectAuthRedirect(await proxyRequest(url, '/'));
    expectAuthRedirect(await proxyRequest(url, '/', { headers: { 'x-daytona-preview-token': 'x'.repeat(32) } }));
    expectAuthRedirect(await proxyRequest(url, '/', { headers: { authorization: 'Bearer wrong-key' } }));
    expectAuthRedirect(await proxyRequest(url, `/?DAYTONA_SANDBOX_AUTH_KEY=${'y'.repeat(32)}`));
    expectAuthRedirect(await proxyRequest(url, '/', { headers: { cookie: `daytona-sandbox-auth-${id}=forged.value` } }));
  });

  it('the identity provider URL serves a sign-in page nobody can pass', async () => {
    const res = await proxyRequest(url, '/');
    const idp = await fetch(String(res.headers.location));
    expect(idp.status).toBe(200);
    expect(await idp.text()).toContain('Sign in to Daytona');
  });

  it('a token of sandbox A does not open sandbox B', async () => {
    const other = await emu.createSandbox();
    expectAuthRedirect(await proxyRequest(emu.previewUrl(other.id, 3000), '/', { headers: { 'x-daytona-preview-token': token } }), other.id);
    expect((await proxyRequest(emu.previewUrl(other.id, 3000), '/', { headers: { 'x-daytona-preview-token': emu.standardToken(other.id) } })).status).toBe(200);
  });
});

describe('each credential, and what reaches the app', () => {
  it('Authorization: Bearer <API key> opens the port and is stripped before the app', async () => {
    const res = await proxyRequest(url, '/api/echo', { headers: { authorization: `Bearer ${emu.apiKey}` } });
    expect(res.status).toBe(200);
    expect(res.json().headers.authorization).toBeUndefined();
  });

  it("an app credential in Authorization (not the API key) is not Daytona's: it passes through with a valid token", async () => {
    const res = await proxyRequest(url, '/api/echo', { headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-daytona-preview-token': token } });
    expect(res.status).toBe(200);
    expect(res.json().headers.authorization).toBe('Basic dXNlcjpwYXNz');
  });

  it('X-Daytona-Preview-Token opens the port and is stripped; no cookie is set', async () => {
    const res = await proxyRequest(url, '/api/echo?keep=1', { headers: { 'x-daytona-preview-token': token } });
    expect(res.status).toBe(200);
    const echo = res.json();
    expect(echo.headers['x-daytona-preview-token']).toBeUndefined();
    expect(echo.query).toEqual({ keep: '1' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('query DAYTONA_SANDBOX_AUTH_KEY opens the port, is removed from the forwarded query (others kept) and sets no cookie', async () => {
    const res = await proxyRequest(url, `/api/echo?a=1&DAYTONA_SANDBOX_AUTH_KEY=${token}&b=x%20y`);
    expect(res.status).toBe(200);
    const echo = res.json();
    expect(echo.query).toEqual({ a: '1', b: 'x y' });
    expect(JSON.stringify(echo)).not.toContain(token);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a signed token in the host opens its port and sets the documented cookie; Daytona does not remove that cookie before the app', async () => {
    const signed = await (
      await fetch(`${emu.apiUrl}/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=120`, { headers: { authorization: `Bearer ${emu.apiKey}` } })
    ).json();
    const first = await proxyRequest(signed.url, '/api/echo');
    expect(first.status).toBe(200);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    const host = `3000-${signed.token}.proxy.localhost`;
    expect(setCookie).toMatch(
      new RegExp(`^daytona-sandbox-auth-${signed.token}=[^;]+; Max-Age=3600; Path=/; Domain=\\.${host.replace(/\./g, '\\.')}; HttpOnly$`),
    );
    expect(setCookie).not.toMatch(/SameSite/i);
    const cookie = setCookie.split(';')[0] ?? '';
    const second = await proxyRequest(signed.url, '/api/echo', { headers: { cookie: `${cookie}; app=kept` } });
    expect(second.status).toBe(200);
    expect(second.json().cookies).toEqual({ app: 'kept', [`daytona-sandbox-auth-${signed.token}`]: cookie.split('=')[1] });
  });

  it('the signed-URL cookie is honoured for 3600 s, not longer', async () => {
    const signed = await (
      await fetch(`${emu.apiUrl}/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=10`, { headers: { authorization: `Bearer ${emu.apiKey}` } })
    ).json();
    const cookie = ((await proxyRequest(signed.url, '/')).headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now + 3_590_000);
    expect((await proxyRequest(signed.url, '/api/echo', { headers: { cookie } })).status).toBe(200);
    vi.setSystemTime(now + 3_601_000);
    expect((await proxyRequest(signed.url, '/api/echo', { headers: { cookie } })).status).toBe(307);
  });

  it('an unknown signed token gets the 307 to the identity provider (v0.190 source)', async () => {
    const res = await proxyRequest(`http://3000-abcdefgh12345678.proxy.localhost:${emu.port}`, '/x?DAYTONA_SANDBOX_AUTH_KEY=secret');
    expect(res.status).toBe(307);
    expect(String(res.headers.location)).toContain('/idp/authorize?');
    expect(String(res.headers.location)).not.toContain('secret');
  });

  it("signedTokenRejection: 'unauthorized' answers an unknown, expired or revoked signed token with production's 401 JSON", async () => {
    const prod = await startEmulator({ port: 0, signedTokenRejection: 'unauthorized' });
    try {
      const { id: sid } = await prod.createSandbox({});
      const body = { message: 'unauthorized: authentication failed: Invalid or expired token', code: 'UNAUTHORIZED' };
      const unknown = await proxyRequest(`http://3000-abcdefgh12345678.proxy.localhost:${prod.port}`, '/x');
      expect(unknown.status).toBe(401);
      expect(unknown.json()).toEqual(body);
      const signed = await (
        await fetch(`${prod.apiUrl}/sandbox/${sid}/ports/3000/signed-preview-url?expiresInSeconds=60`, { headers: { authorization: `Bearer ${prod.apiKey}` } })
      ).json();
      expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200); // positive control
      prod.expireSignedTokens(sid);
      const revoked = await proxyRequest(signed.url, '/api/echo');
      expect(revoked.status).toBe(401);
      expect(revoked.json()).toEqual(body);
      // A wrong standard token on a sandbox host is still the 307: the switch is for signed tokens only.
      expect((await proxyRequest(prod.previewUrl(sid, 3000), '/')).status).toBe(307);
    } finally {
      await prod.close();
    }
  });
});

describe('stats', () => {
  it('counts proxy requests and the ones the proxy rejected', async () => {
    const before = { ...emu.stats };
    await proxyRequest(url, '/api/echo', { headers: { 'x-daytona-preview-token': token } });
    await proxyRequest(url, '/');
    expect(emu.stats.proxyRequests).toBe(before.proxyRequests + 2);
    expect(emu.stats.rejectedProxyRequests).toBe(before.rejectedProxyRequests + 1);
    expect(emu.stats.apiRequests).toBe(before.apiRequests);
  });
});
