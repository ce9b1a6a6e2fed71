/**
 * Threats against the access token itself: forgery, expiry, `alg: none`, a key the gateway
 * never had, and a real token replayed on another port or sandbox (scope confusion).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, base64url, decodeProtectedHeader, decodeJwt } from 'jose';
import { TOKEN_TYPES } from '../../protocol/index.js';
import { startStack, type Stack } from '../support/stack.js';
import { movableClock } from '../support/clock.js';

let stack: Stack;
const clock = movableClock();
let token: string;

beforeAll(async () => {
  stack = await startStack({ clock: clock.now });
  token = (await stack.launch('bob', stack.sandboxes.open, 3000)).grant.accessToken;
});
afterAll(() => stack?.close());

const echo = (t: string, sandbox = stack.sandboxes.open, port = 3000) =>
  stack.requestPreview(sandbox, port, '/api/echo', { headers: { 'x-daytona-preview-token': t, accept: 'application/json' } });

function expectRefused(res: { status: number; headers: Headers; text: string }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(JSON.parse(res.text).error.code).toBe(code);
  if (status === 401) expect(res.headers.get('www-authenticate')).toContain(`error_code="${code}"`);
}

describe('access tokens', () => {
  it('a valid token opens its own sandbox port (control)', async () => {
    const res = await echo(token);
    expect(res.status).toBe(200);
    expect(res.json<{ path: string }>().path).toBe('/api/echo');
  });

  it('forged token: a payload edited to another user/port keeps no valid signature', async () => {
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!)));
    const forged = [h, base64url.encode(JSON.stringify({ ...claims, sub: 'alice', exp: claims.exp + 86400 })), s].join('.');
    expectRefused(await echo(forged), 401, 'invalid_token');
  });

  it('expired token: refused as token_expired (renewable), not as invalid', async () => {
    clock.advance(301_000);
    try {
      expectRefused(await echo(token), 401, 'token_expired');
    } finally {
      clock.advance(-301_000);
    }
  });

  it('alg none token: an unsigned token with the right claims is refused', async () => {
    const claims = decodeJwt(token);
    const header = { alg: 'none', typ: TOKEN_TYPES.access, kid: decodeProtectedHeader(token).kid };
    const unsigned = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.`;
    expectRefused(await echo(unsigned), 401, 'invalid_token');
  });

  it('wrong-key token: signed by a key the gateway never had, even with the real kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const claims = decodeJwt(token);
    const evil = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: TOKEN_TYPES.access, kid: decodeProtectedHeader(token).kid! })
      .sign(privateKey);
    expectRefused(await echo(evil), 401, 'invalid_token');
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPES.access }).sign(new TextEncoder().encode(stack.userSecret));
    expectRefused(await echo(hs), 401, 'invalid_token');
  });

  it('a token for port 3000 used on port 8080 is refused (wrong_scope)', async () => {
    expectRefused(await echo(token, stack.sandboxes.open, 8080), 403, 'wrong_scope');
  });

  it('a token for sandbox A used on sandbox B is refused (wrong_scope)', async () => {
    expectRefused(await echo(token, stack.sandboxes.other, 3000), 403, 'wrong_scope');
  });

  it('token-type confusion: an identity assertion or a user session is not an access token', async () => {
    const seen = (await echo(token)).json<{ headers: Record<string, string> }>();
    const identity = seen.headers['x-preview-gate-identity']!;
    expect(identity).toBeTruthy();
    expectRefused(await echo(identity), 401, 'invalid_token');
    expectRefused(await echo(await stack.mintUserSession('bob')), 401, 'invalid_token');
  });

  it('user sessions: a restricted sandbox refuses users its label does not name', async () => {
    const res = await stack.requestGateway('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.mintUserSession('mallory')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: stack.sandboxes.restricted, port: 3000 }),
    });
    expectRefused(res, 403, 'forbidden');
    const ok = await stack.launch('alice', stack.sandboxes.restricted, 3000);
    expect(ok.grant.accessToken).toBeTruthy();
  });
});
