/**
 * The several-port side of a preview session's credentials (ARCHITECTURE.md flow 16): the
 * siblings' access tokens minted with the main one, the one-time codes the main origin's
 * bootstrap posts to each sibling origin, and that exchange. Built by credentials.ts with its
 * own minting and chain functions, so every token and chain stays scoped exactly as there.
 */
import { GateError, type SiblingToken, type TokenGrant } from '../../../protocol/index.js';
import type { Clock } from '../contracts.js';
import type { ResolvedConfig } from '../config.js';
import type { PreviewSessionRecord, Store } from '../store/store.js';
import { hashSecret, randomToken } from './crypto.js';

/** A sibling origin's one-time code, handed to the main origin's bootstrap after its exchange. */
export interface SiblingLaunch {
  origin: string;
  port: number;
  code: string;
}

export interface SiblingGrantDeps {
  config: ResolvedConfig;
  store: Store;
  clock: Clock;
  /** The hashing domain of launch codes (credentials.ts CODE_DOMAIN). */
  codeDomain: string;
  originOfPort(s: PreviewSessionRecord, port: number): string;
  mintAccess(s: PreviewSessionRecord, port: number): Promise<{ token: string; expiresAt: number }>;
  newChain(s: PreviewSessionRecord, port: number): Promise<string>;
  checkSessionLive(s: PreviewSessionRecord): Promise<void>;
}

export function createSiblingGrants(d: SiblingGrantDeps) {
  const others = (s: PreviewSessionRecord) => (s.ports ?? []).filter((p) => p !== s.port);
  return {
    /** One token per other granted port, minted with the main one (docs/interface.md, "Apps on several ports"). */
    async tokens(s: PreviewSessionRecord): Promise<SiblingToken[]> {
      const out: SiblingToken[] = [];
      for (const port of others(s)) {
        const t = await d.mintAccess(s, port);
        out.push({ origin: d.originOfPort(s, port), port, accessToken: t.token, expiresAt: t.expiresAt });
      }
      return out;
    },

    /** One-time codes for the other granted ports' cookie exchanges (60 s, bound to the main origin). */
    async codes(s: PreviewSessionRecord): Promise<SiblingLaunch[]> {
      const out: SiblingLaunch[] = [];
      for (const port of others(s)) {
        const code = randomToken();
        const siblingOrigin = d.originOfPort(s, port);
        await d.store.putLaunchCode({
          hash: await hashSecret(code, d.codeDomain),
          sessionId: s.id,
          path: '/',
          expiresAt: d.clock() + d.config.launchCodeTtlMs,
          siblingOrigin,
          openerOrigin: s.origin,
        });
        out.push({ origin: siblingOrigin, port, code });
      }
      return out;
    },

    /**
     * POST /__gate/session on a SIBLING origin, sent cross-origin by the main origin's bootstrap
     * right after its own exchange: the sibling's cookies are host-only (`__Host-`), so only an
     * answer from the sibling's own host can set them. The code works once, for 60 s, on that
     * origin only, and only from a page of the session's main origin (`requestOrigin`, the
     * request's Origin header). The login-CSRF judgment was made on the main exchange.
     */
    async exchange(code: string, origin: string, requestOrigin: string | null): Promise<{ session: PreviewSessionRecord; cookieGrant: TokenGrant }> {
      const rec = await d.store.consumeLaunchCode(await hashSecret(code, d.codeDomain), d.clock());
      // Whatever goes wrong, a POST from another page is refused as any foreign page's POST to
      // /__gate/ is (403, gate-paths.ts#sameOrigin): an unknown, spent or expired code too.
      if (!rec || rec.siblingOrigin !== origin || requestOrigin !== rec.openerOrigin) {
        // A live code posted by the wrong page (a main launch code included) is put back for its real holder (same expiry).
        if (rec) await d.store.putLaunchCode(rec);
        throw new GateError(
          'origin_forbidden',
          'This endpoint only answers pages of the preview origin itself (or, for a sibling code, the page that opened the preview).',
        );
      }
      const session = await d.store.getSession(rec.sessionId);
      const port = session?.ports?.find((p) => d.originOfPort(session, p) === origin);
      if (!session || port === undefined) throw new GateError('invalid_code', 'The preview session of this code has ended.');
      await d.checkSessionLive(session);
      const access = await d.mintAccess(session, port);
      return {
        session,
        cookieGrant: {
          accessToken: access.token,
          expiresAt: access.expiresAt,
          refreshExpiresAt: session.expiresAt,
          refreshToken: await d.newChain(session, port),
        },
      };
    },
  };
}
