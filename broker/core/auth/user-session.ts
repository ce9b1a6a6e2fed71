/**
 * The host app's user session: a JWT in `Authorization: Bearer`, verified with an HS256
 * secret or a remote JWKS (jose `createRemoteJWKSet` caches and refreshes the keys).
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, errors, type JWTVerifyGetKey } from 'jose';
import { GateError } from '../../../protocol/index.js';
import type { Clock } from '../contracts.js';

export interface User {
  id: string;
  /** The verified session claims, for custom policies. */
  claims: Record<string, unknown>;
}

export interface UserSessionVerifier {
  verify(authorization: string | null): Promise<User>;
  /** Demo only: signs a session for `userId` with the demo secret. */
  mintDemo?(userId: string, ttlSeconds?: number): Promise<string>;
}

export interface UserSessionOptions {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  clock: Clock;
  /** Demo mode: enables `mintDemo` with the secret. */
  demo: boolean;
}

/**
 * A user id (`sub`) the gateway can carry safely: no comma (ids are listed comma-separated in
 * the `preview-gate.users` label), no whitespace, quotes or control characters (they end up in
 * log lines and in the identity assertion). `|` is allowed: identity providers such as Auth0
 * issue ids like `auth0|5f7c...` and `google-oauth2|1234`.
 */
const USER_ID = /^[A-Za-z0-9._@:+|-]{1,128}$/;

/**
 * The JWKS could not be had (network, timeout, non-200, not JSON, not a key set), as opposed
 * to a session that fails verification (signature, claims, unknown kid): jose's remote key
 * set (jose/dist/webapi/jwks/remote.js) rejects with the fetch's own error, JWKSTimeout, a
 * plain JOSEError for the HTTP status and JSON, JWKSInvalid for the shape.
 */
function identityProviderFailed(err: unknown): boolean {
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  if (err instanceof errors.JOSEError) return err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test(err.message);
  // Not a JOSE error: fetch failed (TypeError "fetch failed", DNS, refused, TLS).
  return err instanceof Error;
}

export function createUserSessionVerifier(o: UserSessionOptions): UserSessionVerifier {
  const enc = new TextEncoder();
  const secret = o.secret ? enc.encode(o.secret) : null;
  const remote: JWTVerifyGetKey | null = o.jwksUrl ? createRemoteJWKSet(new URL(o.jwksUrl)) : null;
  const verifier: UserSessionVerifier = {
    async verify(authorization) {
      const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization ?? '');
      if (!m) throw new GateError('missing_credential', 'Send the user session as Authorization: Bearer <session JWT>.');
      const options = {
        currentDate: new Date(o.clock()),
        requiredClaims: ['sub', 'exp'],
        ...(o.issuer ? { issuer: o.issuer } : {}),
        ...(o.audience ? { audience: o.audience } : {}),
      };
      try {
        const { payload } = secret
          ? await jwtVerify(m[1]!, secret, { ...options, algorithms: ['HS256'] })
          : await jwtVerify(m[1]!, remote!, { ...options, algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'] });
        if (typeof payload.sub !== 'string' || !USER_ID.test(payload.sub))
          throw new GateError('invalid_token', 'The user session has no usable sub (user id).');
        return { id: payload.sub, claims: payload as Record<string, unknown> };
      } catch (err) {
        if (err instanceof GateError) throw err;
        if (err instanceof errors.JWTExpired) throw new GateError('token_expired', 'The user session has expired; sign in to the application again.');
        if (remote && identityProviderFailed(err)) {
          throw new GateError(
            'identity_provider_unavailable',
            "The identity provider's keys (GATE_USER_JWKS_URL) could not be fetched, so no user session can be checked now; try again shortly. Operators: `preview-gate doctor` checks the URL.",
            { 'retry-after': '5' },
          );
        }
        throw new GateError('invalid_token', 'The user session is not valid (signature, issuer, audience or format).');
      }
    },
  };
  if (o.demo && secret) {
    verifier.mintDemo = async (userId, ttlSeconds = 3600) => {
      if (!USER_ID.test(userId)) throw new GateError('bad_request', 'userId must be 1-128 characters of letters, digits and ._@:+|-');
      const now = Math.floor(o.clock() / 1000);
      let jwt = new SignJWT({ demo: true })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds);
      if (o.issuer) jwt = jwt.setIssuer(o.issuer);
      if (o.audience) jwt = jwt.setAudience(o.audience);
      return jwt.sign(secret);
    };
  }
  return verifier;
}
