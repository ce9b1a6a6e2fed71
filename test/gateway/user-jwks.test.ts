import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdp, type Idp } from '../support/idp.js';
import { makeGateway, SBX, SECRET } from './helpers.js';

let idp: Idp;
let jwksUrl: string;
beforeAll(async () => {
  idp = await startIdp();
  jwksUrl = idp.jwksUrl;
});
afterAll(() => idp?.close());

const idpToken = (claims: { iss?: string; aud?: string; sub?: string }, now: number) => idp.token(claims, now);

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
