/**
 * Recognises the gateway's own credentials in a header value, whatever their form, so that
 * forward-request.ts never forwards one to the (untrusted) sandbox app:
 *  - JWTs (access, share, identity) by their `typ` (forward-request.ts#carriesGateToken);
 *  - the opaque secrets (refresh credential, WebSocket ticket, launch code: 256 random bits,
 *    base64url, `tokens/crypto.ts#randomToken`; the refresh cookie's `l.`/`p.` form too) by
 *    asking the store. Only a word of exactly that shape costs a lookup, so an app's own tokens
 *    of another shape cost nothing and an app's token of that shape is never withheld (the
 *    store does not know it). A ticket or launch code found this way is spent (single use:
 *    presented to the app, it must not work afterwards). A store failure counts as "ours"
 *    (the header is withheld rather than risk a leak).
 */
import type { Clock } from './contracts.js';
import { CODE_DOMAIN, REFRESH_DOMAIN, TICKET_DOMAIN } from './credentials.js';
import { carriesGateToken } from './forward-request.js';
import type { Store } from './store/store.js';
import { hashSecret } from './tokens/crypto.js';

const OPAQUE = /^(?:[lp]\.)?([A-Za-z0-9_-]{43})$/;
/** Words looked at per value (a header stuffed with candidates costs at most this many lookups). */
const MAX_WORDS = 8;

export function createSecretRecogniser(store: Store, clock: Clock) {
  async function isOurSecret(secret: string): Promise<boolean> {
    try {
      if (await store.getRefresh(await hashSecret(secret, REFRESH_DOMAIN))) return true;
      if (await store.consumeWsTicket(await hashSecret(secret, TICKET_DOMAIN), clock())) return true;
      return (await store.consumeLaunchCode(await hashSecret(secret, CODE_DOMAIN), clock())) !== null;
    } catch {
      return true;
    }
  }

  /** True when `value` (e.g. an Authorization header) holds any credential of the gateway. */
  return async function carriesGateSecret(value: string | null): Promise<boolean> {
    if (!value) return false;
    if (carriesGateToken(value)) return true;
    const words = value.split(/[\s,]+/).slice(0, MAX_WORDS);
    for (const word of words) {
      const m = OPAQUE.exec(word);
      if (m && (await isOurSecret(m[1]!))) return true;
    }
    return false;
  };
}
