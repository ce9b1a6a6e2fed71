/**
 * The share-link side of the credentials (credentials.ts spreads these into its object): whether
 * a share link still works, and the session of kind 'share' a browser gets when it follows one.
 * That session is indexed by its sandbox like any other (limits.ts `claimSession`), so the bulk
 * end of the sandbox ends it (bulk-end.ts); it has no cap (the `share:<id>` pseudo-user).
 */
import { GateError, type TokenGrant } from '../../protocol/index.js';
import type { Clock } from './contracts.js';
import type { ResolvedConfig } from './config.js';
import type { CookieMode, PreviewSessionRecord, ShareRecord, Store } from './store/store.js';
import type { Limits } from './limits/limits.js';
import { randomId } from './tokens/crypto.js';
import { scopeOf } from './http/paths.js';
import type { SessionGrants } from './credentials.js';

export interface ShareSessionDeps {
  config: ResolvedConfig;
  store: Store;
  clock: Clock;
  limits: Limits;
  /** credentials.ts: the grant of a chain, and a new chain of a session. */
  grantFor(s: PreviewSessionRecord, refreshToken: string): Promise<TokenGrant>;
  newChain(s: PreviewSessionRecord): Promise<string>;
}

export function createShareSessions(d: ShareSessionDeps) {
  const { config, store, clock, limits } = d;
  return {
    /** The live share link, or the coded reason it no longer works. */
    async checkShareLive(shareId: string): Promise<ShareRecord> {
      if (await store.isRevoked(`shr:${shareId}`)) throw new GateError('share_revoked', 'This share link was revoked by the person who shared it.');
      const share = await store.getShare(shareId);
      if (!share || share.expiresAt <= clock()) throw new GateError('share_expired', 'This share link has expired.');
      if (share.revokedAt !== undefined) throw new GateError('share_revoked', 'This share link was revoked by the person who shared it.');
      return share;
    },

    /** A browser that followed a share link gets a session of kind 'share'. */
    async openShareSession(share: ShareRecord, origin: string, mode: CookieMode): Promise<SessionGrants> {
      const now = clock();
      const session: PreviewSessionRecord = {
        id: randomId(),
        userId: `share:${share.id}`,
        kind: 'share',
        sandboxId: share.sandboxId,
        port: share.port,
        origin,
        shareId: share.id,
        ...(share.path ? { pathScope: scopeOf(share.path) } : {}),
        cookieMode: mode,
        createdAt: now,
        expiresAt: Math.min(share.expiresAt, now + config.refreshTtlMs),
      };
      await limits.claimSession(session, session.expiresAt); // index only: share visitors have no cap
      await store.putSession(session);
      return { session, grant: null, cookieGrant: await d.grantFor(session, await d.newChain(session)) };
    },
  };
}
