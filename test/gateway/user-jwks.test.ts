import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { makeGateway, SBX, SECRET } from './helpers.js';

let server: http.Server;
let jwksUrl: string;
let key: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256' };
  server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function idpToken(claims: { iss?: string; aud?: string; sub?: string }, now: number) {
  let j = new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
    .setSubject(claims.sub ?? 'bob')
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + 600);
  if (claims.iss) j = j.setIssuer(claims.iss);
  if (claims.aud) j = j.setAudience(claims.aud);
  return j.sign(key);
}

describe('user sessions from a remote JWKS (GATE_USER_JWKS_URL) with issuer and audience', () => {
  it('accepts a session signed by the identity provider with the configured iss/aud, refuses others', async () => {
    const t = await makeGateway({ userJwtSecret: undefined, userJwksUrl: jwksUrl, userIssuer: 'https://idp.example', userAudience: 'preview-gate' });
    const post = async (token: string) =>
      t.api('/api/previews', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ sandboxId: SBX, port: 3000 }) });
    expect((await post(await idpToken({ iss: 'https://idp.example', aud: 'preview-gate' }, t.clock.now()))).status).toBe(201);
    const wrongAud = await post(await idpToken({ iss: 'https://idp.example', aud: 'other' }, t.clock.now()));
    expect(wrongAud.status).toBe(401);
    expect((await post(await idpToken({ iss: 'https://evil.example', aud: 'preview-gate' }, t.clock.now()))).status).toBe(401);
    // An HS256 session signed with some secret is not accepted when a JWKS is configured.
    expect((await post(await t.user('bob', { secret: SECRET }))).status).toBe(401);
  });
});
