/**
 * WebSocket upgrades on a preview origin, decided by the portable core and carried out by the
 * runtime edge (broker/node/server.ts). Browsers always send `Origin` on a WebSocket handshake
 * (RFC 6455 §4.1), and WebSockets are exempt from CORS, so a foreign page could otherwise ride
 * the preview's cookies: any Origin other than the preview origin itself is refused
 * (cross-site WebSocket hijacking). Programs send no Origin and must present a credential.
 */
import { GateError, type PreviewTarget } from '../../protocol/index.js';
import type { Principal } from './contracts.js';
import type { GatewayContext } from './context.js';
import { classifyHost, checkPort } from './http/host.js';
import { errorResponse } from './http/respond.js';
import { METRIC } from './metrics.js';
import { gateHeaderNames, stripGateQuery } from './forward-request.js';
import { stripGateCookies } from './http/cookies.js';
import { isReservedPath } from './http/paths.js';
import { IDENTITY_HEADER } from '../../protocol/index.js';
import { presentedOrigin, refusalHinterOf } from './upstream/dev-origin.js';
import { grantIncludes, siblingPortOf } from './tokens/sibling-origins.js';
import { REQUEST_ID_HEADER, requestIdOf } from './ops.js';
import { childLogger } from './logger.js';
import type { Logger } from './contracts.js';

export type UpgradeDecision =
  | {
      ok: true;
      target: PreviewTarget;
      /** The preview origin. */
      origin: string;
      principal: Principal;
      /** Path and query to open upstream, gateway parameters removed. */
      path: string;
      /** Headers to set on the forwarded handshake (the app's own cookies, the identity assertion). */
      forwardHeaders: Record<string, string>;
      /** Client handshake headers that must not be forwarded (every gateway credential). */
      stripRequestHeaders: string[];
      /** The edge reports the upstream's answer (its status): a dev server's origin refusal gets its hint logged once (upstream/dev-origin.ts). */
      upstreamAnswered(status: number): void;
      /** The handshake's request id (its X-Request-Id when usable, else fresh): the edge's `upgrade` lines carry it. */
      requestId: string;
      /** The logger of this handshake: its lines carry `rid` (and `client`). */
      log: Logger;
    }
  | { ok: false; response: Response; requestId: string };

/** What the edge knows about the connection beyond the handshake. */
export interface UpgradeContext {
  /** The client's network address: its own share of the public-sandbox lookup budget. */
  clientAddress?: string;
}

/**
 * Only `Upgrade: websocket` is ever relayed. Any other protocol switch (`h2c`, `TLS/1.0`, a
 * list) would turn the connection into a tunnel the gateway no longer reads: requests sent
 * inside an h2c tunnel escape every per-request check (a share link's path scope, the
 * reserved prefix, hygiene). RFC 9110 §7.8 lets a server ignore Upgrade; a gateway that cannot
 * read what follows refuses it instead (501 `not_implemented`), before any credential is looked at.
 */
export function checkWebSocketUpgrade(upgrade: string | null): void {
  // No header: the caller (the runtime edge) already knows this is a WebSocket handshake.
  if (upgrade !== null && upgrade.trim().toLowerCase() !== 'websocket') {
    throw new GateError('not_implemented', 'Only WebSocket upgrades (Upgrade: websocket) are relayed to a preview.');
  }
}

export function createUpgradeAuthorizer(x: GatewayContext): (request: Request, context?: UpgradeContext) => Promise<UpgradeDecision> {
  return async (request, context = {}) => {
    // Like an HTTP request (ops.ts): the client's X-Request-Id when usable, passed to the app
    // and answered back; every line about this handshake carries it.
    const requestId = requestIdOf(request);
    const log = childLogger(x.logger, { rid: requestId, ...(context.clientAddress ? { client: context.clientAddress } : {}) });
    try {
      checkWebSocketUpgrade(request.headers.get('upgrade'));
      const host = classifyHost(x.config, new URL(request.url).host);
      if (host.kind === 'unknown') throw host.error;
      if (host.kind !== 'preview') throw new GateError('not_found', 'WebSockets are served on preview origins only.');
      checkPort(x.config, host.target.port);
      const url = new URL(request.url);
      if (isReservedPath(url.pathname)) throw new GateError('not_found', '/__gate/ is reserved by the preview gateway.');
      const origin = request.headers.get('origin');
      // A page of another port of this sandbox is judged once the credential is known: only a
      // several-port grant that includes its port lets it open the socket (tokens/sibling-origins.ts).
      const siblingPort = siblingPortOf(x.config, origin, host);
      const foreign = () =>
        new GateError('origin_forbidden', `WebSocket from a foreign page (${(origin ?? '').slice(0, 100)}) refused: only ${host.origin} may open it.`);
      if (origin !== null && origin !== host.origin && siblingPort === null) throw foreign();
      // Rate limit (limits/config.ts `upgrade`): per client address before the credential is
      // looked at (a flood of handshakes costs no authentication), per user once it is known.
      await x.limits.take('upgrade', { address: context.clientAddress, log });
      // Same credential rules as HTTP, including `cookiesAccepted` (http/fetch-metadata.ts): the
      // gateway's cookies count only on a `same-origin` (or Fetch-Metadata-less) handshake, so
      // a sibling preview cannot ride them even where its Origin check passed.
      const auth = await x.authenticator.authenticate(request, host, {
        renew: false,
        ticket: true,
        ...(context.clientAddress ? { clientAddress: context.clientAddress } : {}),
        log,
      });
      if (siblingPort !== null && !grantIncludes(auth.grantPorts, siblingPort)) throw foreign();
      if (auth.principal.kind !== 'public') await x.limits.take('upgrade', { user: auth.principal.userId, log });
      const identity = await x.identity(auth.principal, host.origin);
      const forwardHeaders: Record<string, string> = { [REQUEST_ID_HEADER]: requestId };
      const cookie = stripGateCookies(request.headers.get('cookie'));
      if (cookie) forwardHeaders.cookie = cookie;
      if (identity) forwardHeaders[IDENTITY_HEADER] = identity;
      // A known dev server's dev endpoint sees the app's own origin (the Origin was verified above).
      const presented = presentedOrigin({
        enabled: x.config.devServerOrigin,
        kind: 'upgrade',
        pathname: url.pathname,
        origin,
        previewOrigin: host.origin,
        port: host.target.port,
      });
      if (presented) forwardHeaders.origin = presented;
      const hint = refusalHinterOf(x.config, x.logger);
      // Authorised is not yet answered: the runtime edge logs `upgrade` with the upstream's real
      // answer once it has it (broker/node/ws/relay.ts); only refusals are logged here.
      return {
        ok: true,
        target: host.target,
        origin: host.origin,
        principal: auth.principal,
        path: stripGateQuery(url.pathname + url.search),
        forwardHeaders,
        stripRequestHeaders: gateHeaderNames(request.headers, auth.authorizationWasOurs),
        upstreamAnswered: (status) => hint(url.pathname, 'upgrade', status, host.origin, log),
        requestId,
        log,
      };
    } catch (err) {
      const response = errorResponse(err, request, x.config.allowedOrigins);
      const code = err instanceof GateError ? err.code : 'internal';
      x.metrics.inc(METRIC.wsRefused, { code });
      response.headers.set(REQUEST_ID_HEADER, requestId);
      log.info('upgrade', { host: new URL(request.url).host, path: new URL(request.url).pathname, status: response.status, code });
      return { ok: false, response, requestId };
    }
  };
}
