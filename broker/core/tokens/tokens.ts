/**
 * Every JWT the gateway signs or verifies: access tokens, identity assertions and share
 * tokens. Each kind has its own `typ` (protocol TOKEN_TYPES) so one can never be replayed as
 * another (RFC 8725 §3.11); all are ES256 with a `kid` from the key ring.
 */
import { SignJWT, jwtVerify, decodeProtectedHeader, errors, type JWTPayload } from 'jose';
import { GateError, TOKEN_TYPES, type AccessClaims, type ErrorCode } from '../../../protocol/index.js';
import type { Clock } from '../contracts.js';
import type { KeyRing } from './keys.js';
import { randomId } from './crypto.js';
import { createVerifyCache, type VerifyCacheOptions } from './verify-cache.js';

/** Access-token claims: protocol AccessClaims plus the additive extras below. */
export interface GateAccessClaims extends AccessClaims {
  /** 'session' (launch) or 'share' (share link). */
  knd: 'session' | 'share';
  /** Share-link id, for share sessions (checked against the revocation set too). */
  shr?: string;
  /** Path prefix the token is confined to. */
  pth?: string;
  /**
   * Every port of a several-port grant (this one included): the origins whose pages may send
   * this token's COOKIE (tokens/sibling-origins.ts). It never widens where the token opens:
   * `aud` and `port` stay this one origin.
   */
  grp?: number[];
}

export interface ShareClaims {
  iss: string;
  aud: string;
  sub: string;
  shr: string;
  sbx: string;
  port: number;
  pth?: string;
  iat: number;
  exp: number;
}

export interface IdentityClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  knd: 'session' | 'share' | 'public';
  iat: number;
  exp: number;
}

export interface Tokens {
  signAccess(c: Omit<GateAccessClaims, 'iss' | 'iat' | 'exp' | 'jti'>, ttlMs: number): Promise<{ token: string; expiresAt: number }>;
  /** Verifies signature, typ, iss and exp; `aud` is compared by the caller (to say wrong_scope). */
  verifyAccess(token: string): Promise<GateAccessClaims>;
  /**
   * The claims of an access token whose verification is remembered (verify-cache.ts) and still
   * good now, without waiting; undefined otherwise (then `verifyAccess` decides). The caller's
   * checks are the same either way (authenticate.ts `accessTokenNow`).
   */
  peekAccess(token: string): GateAccessClaims | undefined;
  signIdentity(c: Omit<IdentityClaims, 'iss' | 'iat' | 'exp'>, ttlMs: number): Promise<string>;
  signShare(c: Omit<ShareClaims, 'iss' | 'iat' | 'exp'>, expiresAt: number): Promise<string>;
  verifyShare(token: string): Promise<ShareClaims>;
  /** True when the string is a JWT whose header says it is one of ours (any typ given). */
  isOurs(token: string, typ: string): boolean;
}

/** Maps a jose failure to the gateway's codes: expired is renewable, the rest is invalid. */
function mapJoseError(err: unknown, expiredCode: ErrorCode, what: string): GateError {
  if (err instanceof GateError) return err;
  if (err instanceof errors.JWTExpired) return new GateError(expiredCode, `The ${what} has expired.`);
  return new GateError('invalid_token', `The ${what} is not valid (bad signature, wrong type or malformed).`);
}

export interface TokensOptions {
  /**
   * Reuse of successful access-token verifications (see verify-cache.ts). Default 30 s, 4096
   * tokens; `{ ttlMs: 0 }` turns it off. Revocation is checked by the caller on every request.
   */
  accessVerifyCache?: VerifyCacheOptions;
}

export function createTokens(keys: KeyRing, issuer: string, clock: Clock, opts: TokensOptions = {}): Tokens {
  const accessCache = createVerifyCache<GateAccessClaims>(opts.accessVerifyCache);
  const sign = async (payload: JWTPayload, typ: string, expMs: number): Promise<string> => {
    const { kid, key } = keys.signer();
    const nowS = Math.floor(clock() / 1000);
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', typ, kid })
      .setIssuer(issuer)
      .setIssuedAt(nowS)
      .setExpirationTime(Math.floor(expMs / 1000))
      .sign(key);
    keys.noteSigned(kid, expMs);
    return token;
  };
  const verify = async (token: string, typ: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const k = keys.verifier(header.kid);
        if (!k) throw new GateError('invalid_token', 'The token was signed with an unknown key.');
        return k;
      },
      { algorithms: ['ES256'], typ, issuer, currentDate: new Date(clock()), requiredClaims: ['exp', 'aud', 'sub'] },
    );
    return payload;
  };
  return {
    async signAccess(c, ttlMs) {
      // Second granularity: exp is a NumericDate (RFC 7519 §2).
      const expiresAt = Math.floor((clock() + ttlMs) / 1000) * 1000;
      const token = await sign({ ...c, jti: randomId() }, TOKEN_TYPES.access, expiresAt);
      return { token, expiresAt };
    },
    peekAccess(token) {
      return accessCache.get(token, clock());
    },
    async verifyAccess(token) {
      const cached = accessCache.get(token, clock());
      if (cached !== undefined) return cached;
      try {
        const p = await verify(token, TOKEN_TYPES.access);
        if (typeof p.sid !== 'string' || typeof p.sbx !== 'string' || typeof p.port !== 'number') {
          throw new GateError('invalid_token', 'The access token lacks its scope claims.');
        }
        // Frozen: the same object is handed to every later request with this token.
        const claims = Object.freeze(p) as unknown as GateAccessClaims;
        // jose refuses a token once now >= exp (seconds); the cache entry ends no later.
        accessCache.set(token, claims, (p.exp as number) * 1000, clock());
        return claims;
      } catch (err) {
        throw mapJoseError(err, 'token_expired', 'access token');
      }
    },
    async signIdentity(c, ttlMs) {
      return sign({ ...c }, TOKEN_TYPES.identity, clock() + ttlMs);
    },
    async signShare(c, expiresAt) {
      return sign({ ...c }, TOKEN_TYPES.share, expiresAt);
    },
    async verifyShare(token) {
      try {
        const p = await verify(token, TOKEN_TYPES.share);
        if (typeof p.shr !== 'string' || typeof p.sbx !== 'string' || typeof p.port !== 'number') {
          throw new GateError('invalid_token', 'The share link lacks its scope claims.');
        }
        return p as unknown as ShareClaims;
      } catch (err) {
        throw mapJoseError(err, 'share_expired', 'share link');
      }
    },
    isOurs(token, typ) {
      if (typ === TOKEN_TYPES.access && accessCache.get(token, clock()) !== undefined) return true;
      try {
        return decodeProtectedHeader(token).typ === typ;
      } catch {
        return false;
      }
    },
  };
}
