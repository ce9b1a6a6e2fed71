/**
 * The preview proxy face: requests whose Host parses as `{port}-{id|signedToken}.{domain}`.
 * Steps in Daytona's order: OPTIONS preflight (204, before auth, never forwarded) → warning
 * acceptance endpoint → decide (warning page, auth, state, port; decide.ts) → forward.
 */
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { corsDisabled, corsHeaders, preflightHeaders } from './cors.js';
import { decide, type DecideDeps } from './decide.js';
import { forwardHttp } from './forward.js';
import type { PreviewHost } from './host.js';
import { ACCEPT_PATH, acceptedCookie, safeRedirect } from './warning.js';
import { relayUpgrade, writeRawResponse } from './ws-relay.js';

export interface ProxyStats {
  proxyRequests: number;
  rejectedProxyRequests: number;
}

export interface ProxyContext extends DecideDeps {
  agent: Agent;
  stats: ProxyStats;
}

export function handleProxyRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, host: PreviewHost): void {
  ctx.stats.proxyRequests++;
  const cors = corsHeaders(req);
  if (req.method === 'OPTIONS' && !corsDisabled(req)) {
    req.resume();
    res.writeHead(204, preflightHeaders(req));
    return void res.end();
  }
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === ACCEPT_PATH) {
    req.resume();
    const target = safeRedirect(new URL(req.url ?? '/', 'http://x').searchParams.get('redirect'));
    res.writeHead(302, [...cors, 'Location', target, 'Set-Cookie', acceptedCookie(), 'Content-Length', '0']);
    return void res.end();
  }
  const verdict = decide(ctx, req, host, false);
  if (verdict.kind === 'respond') {
    if (verdict.rejected) ctx.stats.rejectedProxyRequests++;
    req.resume();
    const headers = [...Object.entries(verdict.headers).flat(), ...cors, 'Content-Length', String(Buffer.byteLength(verdict.body))];
    res.writeHead(verdict.status, headers);
    return void res.end(verdict.body);
  }
  forwardHttp(ctx.agent, req, res, verdict, cors, () => ctx.stats.rejectedProxyRequests++);
}

export function handleProxyUpgrade(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer, host: PreviewHost): void {
  ctx.stats.proxyRequests++;
  socket.on('error', () => socket.destroy());
  const verdict = decide(ctx, req, host, true);
  if (verdict.kind === 'respond') {
    if (verdict.rejected) ctx.stats.rejectedProxyRequests++;
    return writeRawResponse(socket, verdict.status, verdict.headers, verdict.body);
  }
  relayUpgrade(req, socket, head, verdict, () => ctx.stats.rejectedProxyRequests++);
}
