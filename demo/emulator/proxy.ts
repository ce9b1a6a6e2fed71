/**
 * The preview proxy face: requests whose Host parses as `{port}-{id|signedToken}.{domain}`.
 * Steps in Daytona's order: cross-origin OPTIONS preflight (204, before auth, never forwarded) → warning
 * acceptance endpoint → decide (warning page, auth, state, port; decide.ts) → forward.
 */
import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { corsDisabled, corsHeaders, preflightHeaders } from './cors.js';
import { decide, type DecideDeps, type Verdict } from './decide.js';
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
  /** Last activity is refreshed this often while a forwarded connection stays open (Daytona: 50 s). */
  activityIntervalMs: number;
}

/**
 * docs/daytona.md, "Forwarding": after auth, and then every 50 s while the connection stays open
 * (WebSocket, SSE, long download), unless the request asked to skip it. Returns the stop function.
 */
function keepActivityFresh(ctx: ProxyContext, verdict: Extract<Verdict, { kind: 'forward' }>): () => void {
  if (!verdict.refreshActivity) return () => {};
  const timer = setInterval(() => ctx.store.touch(verdict.sandbox), ctx.activityIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function handleProxyRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, host: PreviewHost): void {
  ctx.stats.proxyRequests++;
  const cors = corsHeaders(req);
  // gin-contrib/cors answers only cross-origin OPTIONS; without an Origin (or a same-origin one)
  // the request goes on to auth and the app.
  if (req.method === 'OPTIONS' && cors.length > 0) {
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
  const stop = keepActivityFresh(ctx, verdict);
  res.once('close', stop);
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
  const stop = keepActivityFresh(ctx, verdict);
  socket.once('close', stop);
  relayUpgrade(req, socket, head, verdict, () => ctx.stats.rejectedProxyRequests++);
}
