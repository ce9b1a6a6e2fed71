/**
 * Graceful shutdown of the Node edge (ARCHITECTURE.md, "Shutdown"). `drain(timeoutMs)`:
 *  1. the listener stops accepting (`server.close()`); idle keep-alive connections are closed
 *     at once, and every connection again as soon as its answer is finished (answers written
 *     while draining say `Connection: close`);
 *  2. requests in flight run to their end;
 *  3. relayed WebSockets get a close frame 1001 with a reason (ws-going-away.ts), so browser
 *     apps reconnect, through the load balancer, to another instance;
 *  4. whatever is still open after `timeoutMs` is cut, and counted.
 * Readiness (/readyz 503) is the caller's first step (server.ts), before any of this.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { GoingAway } from './ws-going-away.js';

export const GOING_AWAY_REASON = 'preview-gate: server shutting down';

/** How often idle connections are looked for while draining (a finished answer leaves one). */
const IDLE_SWEEP_MS = 100;

export interface DrainResult {
  /** Connections still open when the timeout came, cut. */
  forced: number;
  ms: number;
}

export interface Drainer {
  readonly draining: boolean;
  /** A relayed WebSocket: closed with 1001 on drain (at once when already draining). */
  trackWebSocket(socket: { once(event: 'close', fn: () => void): unknown }, link: GoingAway): void;
  drain(timeoutMs: number): Promise<DrainResult>;
}

/**
 * @example
 * const drainer = createDrainer(server, sockets);
 * const { forced } = await drainer.drain(25_000);
 */
export function createDrainer(server: Server, sockets: Set<Socket>): Drainer {
  let draining: Promise<DrainResult> | null = null;
  const webSockets = new Set<GoingAway>();

  // Runs before the app's handler: an answer begun while draining closes its connection.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
  });

  return {
    get draining() {
      return draining !== null;
    },
    trackWebSocket(socket, link) {
      if (draining) return link.goAway(GOING_AWAY_REASON);
      webSockets.add(link);
      socket.once('close', () => webSockets.delete(link));
    },
    drain(timeoutMs) {
      draining ??= new Promise<DrainResult>((resolve) => {
        const start = Date.now();
        let sweep: ReturnType<typeof setInterval> | undefined;
        let deadline: ReturnType<typeof setTimeout> | undefined;
        let forced = 0;
        const done = () => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve({ forced, ms: Date.now() - start });
        };
        // Resolves once every connection (upgraded ones included) has closed.
        server.close(() => done());
        server.closeIdleConnections();
        sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        for (const ws of webSockets) ws.goAway(GOING_AWAY_REASON);
        webSockets.clear();
        deadline = setTimeout(() => {
          forced = sockets.size;
          for (const s of sockets) s.destroy();
        }, timeoutMs);
      });
      return draining;
    },
  };
}
