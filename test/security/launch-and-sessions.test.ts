/**
 * Threats against the launch code and the preview session: a replayed or stale launch code,
 * a code carried to another origin, a stolen refresh credential used after its owner renewed,
 * and a revoked session that must stop at once.
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

async function newCode(sandbox = stack.sandboxes.open, port = 3000) {
  const res = await stack.requestGateway('/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId: sandbox, port }),
  });
  const { url, sessionId } = res.json<{ url: string; sessionId: string }>();
  return { code: new URLSearchParams(new URL(url).hash.slice(1)).get('code')!, sessionId };
}
const exchange = (code: string, sandbox = stack.sandboxes.open, port = 3000) =>
  stack.requestPreview(sandbox, port, '/__gate/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });

describe('launch codes', () => {
  it('launch-code replay: the second exchange of a code is refused', async () => {
    const { code } = await newCode();
    expect((await exchange(code)).status).toBe(200);
    const again = await exchange(code);
    expect(again.status).toBe(401);
    expect(again.json<any>().error.code).toBe('invalid_code');
    expect(again.setCookies).toEqual([]);
  });

  it('launch code after 60 s is refused', async () => {
    const { code } = await newCode();
    clock.advance(61_000);
    const res = await exchange(code);
    expect(res.status).toBe(401);
    expect(res.json<any>().error.code).toBe('invalid_code');
  });

  it('a launch code taken to another port or sandbox is refused (and burnt)', async () => {
    const { code } = await newCode(stack.sandboxes.open, 3000);
    expect((await exchange(code, stack.sandboxes.open, 8080)).json<any>().error.code).toBe('invalid_code');
    expect((await exchange(code, stack.sandboxes.open, 3000)).status).toBe(401);
  });

  it("login CSRF: a foreign page cannot exchange a code into the victim's browser", async () => {
    const { code } = await newCode();
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: JSON.stringify({ code }),
    });
    expect(res.status).toBe(403);
    expect(res.json<any>().error.code).toBe('origin_forbidden');
  });
});

describe('preview sessions', () => {
  it('refresh-token reuse after rotation revokes the whole session (theft detection)', async () => {
    const { grant } = await stack.launch('bob', stack.sandboxes.open, 3000);
    const refresh = (t: string) =>
      stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    const first = await refresh(grant.refreshToken);
    expect(first.status).toBe(200);
    const successor = first.json<any>().refreshToken;
    clock.advance(21_000); // past the concurrency grace window
    const stolen = await refresh(grant.refreshToken);
    expect(stolen.status).toBe(401);
    expect(stolen.json<any>().error.code).toBe('refresh_reused');
    // The legitimate holder is out too, and so is every access token of the session.
    expect((await refresh(successor)).json<any>().error.code).toBe('session_revoked');
    const access = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', {
      headers: { 'x-daytona-preview-token': first.json<any>().accessToken },
    });
    expect(access.json<any>().error.code).toBe('session_revoked');
  });

  it('revoked session: access stops at once (header and cookie) and refresh stops', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    const get = (headers: Record<string, string>) => stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers });
    expect((await get({ cookie: l.cookieHeader })).status).toBe(200);
    const del = await stack.requestGateway(`/api/previews/${l.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}` },
    });
    expect(del.status).toBe(204);
    for (const res of [await get({ cookie: l.cookieHeader }), await get({ 'x-daytona-preview-token': l.grant.accessToken })]) {
      expect(res.status).toBe(401);
      expect(res.json<any>().error.code).toBe('session_revoked');
    }
    const r = await stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/refresh', {
      method: 'POST',
      headers: { authorization: `Bearer ${l.grant.refreshToken}` },
    });
    expect(r.json<any>().error.code).toBe('session_revoked');
  });

  it('only the owner can end a session', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    const del = await stack.requestGateway(`/api/previews/${l.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await stack.mintUserSession('mallory')}` },
    });
    expect(del.status).toBe(403);
    expect((await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { cookie: l.cookieHeader } })).status).toBe(200);
  });

  it('cookie-only client across expiry: renewed server-side through the real stack', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    clock.advance(301_000);
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { cookie: l.cookieHeader } });
    expect(res.status).toBe(200);
    expect(res.setCookies).toHaveLength(2);
    expect(cookieHeaderOf(res.setCookies)).not.toBe(l.cookieHeader);
  });
});
