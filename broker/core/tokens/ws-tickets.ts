/**
 * WebSocket tickets (POST /__gate/ws-ticket): single-use, short-lived secrets a page puts on
 * the one upgrade it opens (a handshake cannot carry a header), stored hashed under their own
 * domain and consumed once (store.consumeWsTicket). Split out of credentials.ts, which
 * spreads these functions into its own object.
 */
import type { PreviewTarget } from '../../../protocol/index.js';
import type { Clock } from '../contracts.js';
import type { ResolvedConfig } from '../config.js';
import type { Store } from '../store/store.js';
import { hashSecret, randomToken } from './crypto.js';

export const TICKET_DOMAIN = 'pg-ws';

export function createWsTickets(d: { config: ResolvedConfig; store: Store; clock: Clock }) {
  const { config, store, clock } = d;
  return {
    /** POST /__gate/ws-ticket: a single-use ticket for one upgrade. */
    async issueTicket(p: {
      sessionId: string;
      userId: string;
      kind: 'session' | 'share';
      target: PreviewTarget;
      pathScope?: string;
      shareId?: string;
      /** The holder's granted ports (several-port grant): which sibling origins may open the socket. */
      ports?: number[];
    }): Promise<{ ticket: string; expiresAt: number }> {
      const ticket = randomToken();
      const expiresAt = clock() + config.wsTicketTtlMs;
      await store.putWsTicket({
        hash: await hashSecret(ticket, TICKET_DOMAIN),
        sessionId: p.sessionId,
        userId: p.userId,
        kind: p.kind,
        sandboxId: p.target.sandboxId,
        port: p.target.port,
        ...(p.pathScope ? { pathScope: p.pathScope } : {}),
        ...(p.shareId ? { shareId: p.shareId } : {}),
        ...(p.ports ? { ports: p.ports } : {}),
        expiresAt,
      });
      return { ticket, expiresAt };
    },

    /** The ticket's record, once: a second use (or a late one) finds nothing. */
    async consumeTicket(ticket: string) {
      return store.consumeWsTicket(await hashSecret(ticket, TICKET_DOMAIN), clock());
    },
  };
}
