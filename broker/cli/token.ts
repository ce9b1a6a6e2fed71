/**
 * `preview-gate token`: a user-session JWT signed with GATE_USER_JWT_SECRET (HS256), the kind a
 * host app hands its pages, for trying the gateway from curl or the embed. Never for production
 * users: mint sessions in the host app (README, "Getting a user session").
 */
import { SignJWT } from 'jose';

export interface TokenOptions {
  secret: string;
  userId: string;
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  now?: number;
}

/** @example await mintUserSession({ secret, userId: 'ana', ttlSeconds: 3600 }); // 'eyJ…' */
export async function mintUserSession(o: TokenOptions): Promise<string> {
  if (o.secret.length < 32) throw new Error('GATE_USER_JWT_SECRET must be at least 32 characters (RFC 7518 §3.2)');
  if (!/^[A-Za-z0-9._@:+|-]{1,128}$/.test(o.userId)) throw new Error('the user id must be 1-128 characters of letters, digits and ._@:+|-');
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.userId)
    .setIssuedAt(now)
    .setExpirationTime(now + o.ttlSeconds);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
