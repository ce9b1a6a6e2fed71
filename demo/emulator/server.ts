/**
 * One socket server, two faces, chosen by the Host header the way Daytona's proxy does it:
 * a Host whose first label parses as `{port}-{id|token}` is the preview proxy (proxy.ts);
 * any other Host (127.0.0.1, localhost) serves the API under `/api` (api.ts), `GET /health`,
 * and the emulated identity provider at `/idp/authorize`; everything else is gin's plain 404.
 */
import { createServer, type Server } from 'node:http';
import { handleApi, type ApiContext } from './api.js';
import { sendApiError, sendJson, sendProxyError } from './errors.js';
import { parsePreviewHost } from './host.js';
import { IDP_AUTHORIZE_PATH, signInPage } from './idp.js';
import { handleProxyRequest, handleProxyUpgrade, type ProxyContext } from './proxy.js';
import { SOCKET_PATH } from './events.js';
import { writeRawResponse } from './ws-relay.js';

export const EMULATOR_VERSION = '0.190.0-emulator';

export type ApiFault = null | { status: number } | 'refuse';

export interface ServerContext {
  api: ApiContext;
  proxy: ProxyContext;
  stats: { apiRequests: number };
  fault(): ApiFault;
}

export function createEmulatorServer(ctx: ServerContext): Server {
  // requestTimeout 0: streamed uploads and downloads may legitimately last longer than Node's 300 s default.
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    const host = parsePreviewHost(req.headers.host);
    if (host) {
      // Bad input must never take the emulator down: a bug answers 500, it does not crash.
      try {
        return handleProxyRequest(ctx.proxy, req, res, host);
      } catch {
        if (res.headersSent) return void res.destroy();
        return sendProxyError(req, res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
      }
    }
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      ctx.stats.apiRequests++;
      const fault = ctx.fault();
      if (fault === 'refuse') return void req.socket.destroy();
      if (fault) {
        req.resume();
        return sendApiError(req, res, fault.status, 'Emulated API fault');
      }
      handleApi(ctx.api, req, res, url).catch(() => res.destroy());
      return;
    }
    req.resume();
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok', version: EMULATOR_VERSION });
    if (req.method === 'GET' && url.pathname === IDP_AUTHORIZE_PATH) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(signInPage());
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found');
  });
  server.on('upgrade', (req, socket, head) => {
    const host = parsePreviewHost(req.headers.host);
    if (host) {
      try {
        return handleProxyUpgrade(ctx.proxy, req, socket, head, host);
      } catch {
        return void socket.destroy();
      }
    }
    // The SDK's Socket.IO endpoint (events.ts) handles its own upgrades.
    if ((req.url ?? '').startsWith(SOCKET_PATH)) return;
    writeRawResponse(socket, 404, { 'content-type': 'text/plain' }, '404 page not found');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
