import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createUserSessionVerifier } from '../../broker/core/auth/user-session.js';

const secret = 'unit-secret-unit-secret-unit-secret!';
const verifier = createUserSessionVerifier({ secret, jwksUrl: null, issuer: null, audience: null, clock: () => Date.now(), demo: false });

async function session(sub: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));
}

describe('user session subjects', () => {
  it.each(['auth0|5f7c1e2d3b4a', 'google-oauth2|1234567890', 'alice@example.com', 'u-42'])('accepts identity-provider style id %s', async (sub) => {
    await expect(verifier.verify(`Bearer ${await session(sub)}`)).resolves.toMatchObject({ id: sub });
  });
  it.each(['alice,bob', 'alice bob', 'a"b', 'x'.repeat(129), 'tab\there'])(
    'refuses an id that could not be listed in a label or logged safely: %j',
    async (sub) => {
      await expect(verifier.verify(`Bearer ${await session(sub)}`)).rejects.toMatchObject({ code: 'invalid_token' });
    },
  );
});
