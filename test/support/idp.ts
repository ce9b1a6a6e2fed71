/**
 * A host app's identity provider for tests of GATE_USER_JWKS_URL: an ES256 key (kid `idp-1`)
 * whose JWKS is served on a loopback port, and `token()` signing a user session with it (10 min).
 * Use test/gateway/helpers.ts#TestGateway.user for the shared-secret (HS256) sessions instead.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

export interface Idp {
  /** `http://127.0.0.1:{port}/jwks.json` */
  jwksUrl: string;
  key: CryptoKey;
  /** A user session signed by the provider at `now` (ms); `sub` defaults to "bob". */
  token(claims: { iss?: string; aud?: string; sub?: string }, now: number): Promise<string>;
  close(): Promise<void>;
}

export async function startIdp(): Promise<Idp> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256' };
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    key,
    token(claims, now) {
      let j = new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
        .setSubject(claims.sub ?? 'bob')
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 600);
      if (claims.iss) j = j.setIssuer(claims.iss);
      if (claims.aud) j = j.setAudience(claims.aud);
      return j.sign(key);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
