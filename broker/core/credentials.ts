/**
 * The credential life cycle of a preview session: launch code → grant (access token +
 * refresh credential) → rotation on every refresh (with theft detection and a grace window)
 * → revocation. Share links open sessions of kind 'share' through the same machinery
 * (share-sessions.ts); WebSocket tickets are tokens/ws-tickets.ts, several-port grants tokens/sibling-grants.ts.
 */
import { GateError, type PreviewTarget, type TokenGrant } from '../../protocol/index.js';
import type { Clock, Logger, Metrics } from './contracts.js';
import type { ResolvedConfig } from './config.js';
import type { CookieMode, PreviewSessionRecord, RefreshRecord, Store } from './store/store.js';
import type { Tokens } from './tokens/tokens.js';
import { hashSecret, randomId, randomToken, seal, unseal } from './tokens/crypto.js';
import { METRIC } from './metrics.js';
import type { Limits } from './limits/limits.js';
import { judgeLaunch, type LaunchContext } from './limits/launch-binding.js';
import { previewOrigin } from './http/host.js';
import { createSiblingGrants, type SiblingLaunch } from './tokens/sibling-grants.js';
import { createWsTickets } from './tokens/ws-tickets.js';
import { createShareSessions } from './share-sessions.js';

export interface CredentialDeps {
  config: ResolvedConfig;
  store: Store;
  tokens: Tokens;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Rate limits and caps; claims a session slot per user and indexes sessions by sandbox. */
  limits: Limits;
}

export interface GrantResult {
  grant: TokenGrant;
  session: PreviewSessionRecord;
}

/**
 * A fresh session gets TWO independent refresh chains: one handed to JavaScript (the Service
 * Worker keeps it in IndexedDB) and one kept in the HttpOnly refresh cookie. Each rotates on
 * its own, so a worker's renewal never turns the cookie's credential into a "reused" one.
 */
export interface SessionGrants {
  session: PreviewSessionRecord;
  /** For the JSON answer (null for share sessions: browsers get cookies only). */
  grant: TokenGrant | null;
  /** For the cookies. */
  cookieGrant: TokenGrant;
}

export const REFRESH_DOMAIN = 'pg-refresh';
export const CODE_DOMAIN = 'pg-launch';
export { TICKET_DOMAIN } from './tokens/ws-tickets.js';

export type { SiblingLaunch } from './tokens/sibling-grants.js';

export type Credentials = ReturnType<typeof createCredentials>;

export function createCredentials(d: CredentialDeps) {
  const { config, store, tokens, clock, metrics, logger, limits } = d;

  /** The exact origin of one granted port of the session (its own origin for its main port). */
  const originOfPort = (s: PreviewSessionRecord, port: number): string =>
    port === s.port ? s.origin : previewOrigin(config, { sandboxId: s.sandboxId, port });

  /** An access token for `port` of the session (default: its main port), scoped to that origin alone. */
  async function mintAccess(s: PreviewSessionRecord, port: number = s.port): Promise<{ token: string; expiresAt: number }> {
    const ttl = Math.min(config.accessTtlMs, s.expiresAt - clock());
    if (ttl <= 0) throw new GateError('invalid_session', 'The preview session has ended.');
    metrics.inc(METRIC.tokensIssued, { type: 'access' });
    return tokens.signAccess(
      {
        aud: originOfPort(s, port),
        sub: s.userId,
        sid: s.id,
        sbx: s.sandboxId,
        port,
        knd: s.kind,
        ...(s.shareId ? { shr: s.shareId } : {}),
        ...(s.pathScope ? { pth: s.pathScope } : {}),
        ...(s.ports ? { grp: s.ports } : {}),
      },
      ttl,
    );
  }

  /** The grant of a chain: for its own port; a main-origin chain also carries the siblings' tokens. */
  async function grantFor(s: PreviewSessionRecord, refreshToken: string, port: number = s.port): Promise<TokenGrant> {
    const access = await mintAccess(s, port);
    const others = port === s.port && s.ports ? await siblings.tokens(s) : null;
    return { accessToken: access.token, expiresAt: access.expiresAt, refreshToken, refreshExpiresAt: s.expiresAt, ...(others ? { siblings: others } : {}) };
  }

  /** Starts a refresh chain (generation 0) for the session (on one sibling origin when `port` is given); returns its first credential. */
  async function newChain(s: PreviewSessionRecord, port?: number): Promise<string> {
    const refreshToken = randomToken();
    const bound = port !== undefined && port !== s.port ? { origin: originOfPort(s, port), port } : {};
    await store.putRefresh({ hash: await hashSecret(refreshToken, REFRESH_DOMAIN), sessionId: s.id, generation: 0, expiresAt: s.expiresAt, ...bound });
    return refreshToken;
  }

  /** Throws when the session (or the share link behind it) no longer works. */
  async function checkSessionLive(s: PreviewSessionRecord): Promise<void> {
    if (await store.isRevoked(`sid:${s.id}`)) throw new GateError('session_revoked', 'This preview session was ended.');
    if (s.shareId) await shares.checkShareLive(s.shareId);
  }

  /** Looks up a refresh credential and its session; throws the coded reason when unusable. */
  async function lookupRefresh(refreshToken: string, origin: string): Promise<{ rec: RefreshRecord; session: PreviewSessionRecord; hash: string }> {
    const hash = await hashSecret(refreshToken, REFRESH_DOMAIN);
    const rec = await store.getRefresh(hash);
    if (!rec) throw new GateError('invalid_session', 'The refresh credential is unknown or has expired; open the preview again.');
    const session = await store.getSession(rec.sessionId);
    if (!session) throw new GateError('invalid_session', 'The preview session has ended.');
    // A chain is bound to one origin: the session's own, or one sibling origin's cookie jar.
    if ((rec.origin ?? session.origin) !== origin) throw new GateError('wrong_scope', 'This refresh credential belongs to another preview origin.');
    await checkSessionLive(session);
    return { rec, session, hash };
  }

  /** Inside the grace window, the successor a rotated credential already got; else theft. */
  async function successorOrTheft(rec: RefreshRecord, presented: string, session: PreviewSessionRecord, log: Logger): Promise<string> {
    const now = clock();
    if (rec.rotatedAt !== undefined && now - rec.rotatedAt <= config.refreshGraceMs && rec.successorSealed) {
      const successor = await unseal(presented, rec.successorSealed);
      if (successor) {
        metrics.inc(METRIC.refreshes, { result: 'grace' });
        return successor;
      }
    }
    return theft(session, log);
  }

  /** RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant. */
  async function theft(session: PreviewSessionRecord, log: Logger): Promise<never> {
    await revokeSession(session.id, session.expiresAt, session);
    metrics.inc(METRIC.refreshes, { result: 'reused' });
    log.warn('refresh_reused', { sid: session.id, user: session.userId });
    throw new GateError('refresh_reused', 'This refresh credential was already used; the preview session was ended for safety.');
  }

  const shares = createShareSessions({ config, store, clock, limits, grantFor, newChain });
  const tickets = createWsTickets({ config, store, clock });
  const siblings = createSiblingGrants({ config, store, clock, codeDomain: CODE_DOMAIN, originOfPort, mintAccess, newChain, checkSessionLive });

  /** Revokes a session and frees its slot in the user's cap and the sandbox's index. */
  async function revokeSession(sessionId: string, until: number, known?: PreviewSessionRecord): Promise<void> {
    await store.revoke(`sid:${sessionId}`, until);
    const session = known ?? (await store.getSession(sessionId));
    if (session) await limits.releaseSession(session);
  }

  return {
    checkShareLive: shares.checkShareLive,
    checkSessionLive,

    /** POST /api/previews: a pending session and its one-time launch code. */
    async createLaunch(
      userId: string,
      target: PreviewTarget,
      origin: string,
      path: string,
      hostOrigin?: string,
      /** Every port the launch grants (the main one included), already authorised one by one. */
      ports?: readonly number[],
    ): Promise<{ code: string; session: PreviewSessionRecord; codeExpiresAt: number }> {
      const now = clock();
      const granted = ports ? [...new Set([target.port, ...ports])].sort((a, b) => a - b) : [];
      const session: PreviewSessionRecord = {
        id: randomId(),
        userId,
        kind: 'session',
        sandboxId: target.sandboxId,
        port: target.port,
        origin,
        cookieMode: 'lax',
        createdAt: now,
        expiresAt: now + config.refreshTtlMs,
        ...(granted.length > 1 ? { ports: granted } : {}),
      };
      const codeExpiresAt = now + config.launchCodeTtlMs;
      // A launch holds a slot only as long as its code lives until the exchange extends it to the
      // session's end: links never opened do not count against the user's cap for 12 hours.
      await limits.claimSession(session, codeExpiresAt);
      await store.putSession(session);
      const code = randomToken();
      await store.putLaunchCode({
        hash: await hashSecret(code, CODE_DOMAIN),
        sessionId: session.id,
        path,
        expiresAt: codeExpiresAt,
        ...(hostOrigin ? { hostOrigin } : {}),
      });
      return { code, session, codeExpiresAt };
    },

    /** POST /__gate/session: one use, on the origin it was made for, within its lifetime. */
    async exchangeCode(
      code: string,
      origin: string,
      mode: CookieMode,
      context?: LaunchContext,
    ): Promise<SessionGrants & { grant: TokenGrant; path: string; siblingLaunches: SiblingLaunch[] }> {
      const rec = await store.consumeLaunchCode(await hashSecret(code, CODE_DOMAIN), clock());
      if (!rec) throw new GateError('invalid_code', 'This launch code is unknown, already used or expired (codes work once, for 60 seconds).');
      const session = await store.getSession(rec.sessionId);
      if (!session) throw new GateError('invalid_code', 'The preview session of this launch code has ended.');
      if (session.origin !== origin || rec.siblingOrigin !== undefined)
        throw new GateError('invalid_code', 'This launch code was made for another preview origin.');
      await checkSessionLive(session);
      // Login CSRF (limits/launch-binding.ts): only where the launch's maker can be seen, or confirmed.
      const verdict = judgeLaunch(rec.hostOrigin, context);
      if (verdict === 'refuse') {
        throw new GateError(
          'launch_context_mismatch',
          `This launch link was made for ${rec.hostOrigin ? `a page of ${rec.hostOrigin}` : 'a tab of its own'} and does not sign anyone in inside another page. Open the preview from the app itself.`,
        );
      }
      if (verdict === 'confirm') {
        await store.putLaunchCode(rec); // the code stays usable for the confirmed retry (same expiry)
        throw new GateError(
          'confirmation_required',
          `This link signs you in to port ${session.port} of sandbox ${session.sandboxId} as user "${session.userId}". Continue only if you opened it yourself from your app.`,
        );
      }
      await limits.claimSession(session, session.expiresAt);
      if (session.cookieMode !== mode) {
        session.cookieMode = mode;
        await store.putSession(session);
      }
      const access = await mintAccess(session);
      const at = { accessToken: access.token, expiresAt: access.expiresAt, refreshExpiresAt: session.expiresAt };
      const siblingTokens = session.ports ? await siblings.tokens(session) : null;
      return {
        session,
        path: rec.path,
        grant: { ...at, refreshToken: await newChain(session), ...(siblingTokens ? { siblings: siblingTokens } : {}) },
        cookieGrant: { ...at, refreshToken: await newChain(session) },
        siblingLaunches: await siblings.codes(session),
      };
    },

    /** POST /__gate/session on a sibling origin (tokens/sibling-grants.ts). */
    exchangeSiblingCode: (code: string, origin: string, requestOrigin: string | null) => siblings.exchange(code, origin, requestOrigin),

    /**
     * POST /__gate/refresh and server-side renewal: rotate the refresh credential. Re-presenting
     * an already-rotated one within `refreshGraceMs` returns the same successor (concurrent
     * subresource loads); later, it is theft: the whole session is revoked.
     */
    async refresh(refreshToken: string, origin: string, clientAddress?: string, log: Logger = logger): Promise<GrantResult> {
      // Every attempt counts per address (bad credentials included); per user only a real
      // rotation does, so a burst of renewals sharing the grace window costs one point.
      await limits.take('refresh', { address: clientAddress, log });
      const { rec, session, hash } = await lookupRefresh(refreshToken, origin);
      if (rec.rotatedAt !== undefined) {
        return { grant: await grantFor(session, await successorOrTheft(rec, refreshToken, session, log), rec.port), session };
      }
      // Refused before rotating; counted once the rotation won (its concurrent losers are free).
      await limits.check('refresh', { user: session.userId, log });
      const successor = randomToken();
      const next: RefreshRecord = {
        hash: await hashSecret(successor, REFRESH_DOMAIN),
        sessionId: session.id,
        generation: rec.generation + 1,
        expiresAt: session.expiresAt,
        ...(rec.origin !== undefined && rec.port !== undefined ? { origin: rec.origin, port: rec.port } : {}),
      };
      const result = await store.rotateRefresh(hash, next, await seal(refreshToken, successor), clock());
      if (result.status === 'unknown') throw new GateError('invalid_session', 'The refresh credential has expired; open the preview again.');
      if (result.status === 'already_rotated') {
        // Lost the race against a concurrent refresh with the same credential.
        return { grant: await grantFor(session, await successorOrTheft(result.record, refreshToken, session, log), rec.port), session };
      }
      metrics.inc(METRIC.refreshes, { result: 'rotated' });
      await limits.spend('refresh', { user: session.userId });
      return { grant: await grantFor(session, successor, rec.port), session };
    },

    /**
     * For WebSocket upgrades: accept a live refresh credential WITHOUT rotating it (no cookie can
     * be set on a 101). A rotated one is still accepted within the grace window (the page's
     * cookie jar may lag its last renewal by a moment); after it, reuse is theft exactly as in
     * `refresh` (RFC 9700 §4.14.2): the whole session is revoked, `refresh_reused`.
     */
    async peekRefresh(refreshToken: string, origin: string, log: Logger = logger): Promise<PreviewSessionRecord> {
      const { rec, session } = await lookupRefresh(refreshToken, origin);
      if (rec.rotatedAt !== undefined && clock() - rec.rotatedAt > config.refreshGraceMs) return theft(session, log);
      return session;
    },

    revokeSession,

    openShareSession: shares.openShareSession,

    ...tickets,
  };
}

// The path predicates live in http/paths.ts (one normalisation for every path decision).
export { inScope, scopeOf } from './http/paths.js';
