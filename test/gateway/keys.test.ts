import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { TOKEN_TYPES } from '../../protocol/index.js';
import { makeGateway } from './helpers.js';

describe('signing keys: JWKS and rotation with overlap', () => {
  it('publishes ES256 keys with a kid, and access tokens verify with the JWKS', async () => {
    const t = await makeGateway();
    const jwks = await (await t.api('/.well-known/jwks.json')).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
    const { grant } = await t.launch();
    const { protectedHeader, payload } = await jwtVerify(grant.accessToken, createLocalJWKSet(jwks), {
      currentDate: new Date(t.clock.now()),
      typ: TOKEN_TYPES.access,
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0].kid);
    expect(payload).toMatchObject({ sub: 'bob', aud: t.origin(), port: 3000, sbx: 'sbx-open' });
  });

  it('after rotateKeys the new key signs, the old still verifies until its tokens expire, then leaves the JWKS', async () => {
    const t = await makeGateway();
    const before = await t.launch();
    const oldKid = decodeProtectedHeader(before.grant.accessToken).kid;
    const newKid = await t.gw.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    expect(t.gw.jwks().keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    // The old token keeps working.
    expect((await t.preview('/', { headers: { 'x-daytona-preview-token': before.grant.accessToken } })).status).toBe(200);
    const after = await t.launch();
    expect(decodeProtectedHeader(after.grant.accessToken).kid).toBe(newKid);
    // Once every token of the old key has expired, the key is dropped.
    t.clock.advance(301_000);
    expect(t.gw.jwks().keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('loads a configured JWK set (GATE_SIGNING_KEYS): the first key signs', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'configured-1' };
    const t = await makeGateway({ signingKeys: { keys: [jwk as Record<string, unknown>] } });
    const { grant } = await t.launch();
    expect(decodeProtectedHeader(grant.accessToken).kid).toBe('configured-1');
    await expect(makeGateway({ signingKeys: { keys: [{ kty: 'RSA' }] } })).rejects.toThrow(/EC P-256/);
  });
});
