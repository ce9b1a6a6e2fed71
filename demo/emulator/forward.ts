/**
 * Streams one HTTP request to the sandbox port and the answer back. Bodies are piped both
 * ways (backpressure comes from `pipe`; nothing is buffered whole). Connection refused before
 * an answer → a bare 502 (Daytona's answer when the app port is not listening); an upstream
 * failure after the head was sent → the client connection is destroyed, so the truncation is
 * visible instead of being disguised as a complete body.
 */
import { request, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardableResponseHeaders } from './headers.js';
import type { Verdict } from './decide.js';

type Forward = Extract<Verdict, { kind: 'forward' }>;

export function forwardHttp(
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
  target: Forward,
  extraHeaders: string[],
  onBadGateway: () => void,
  retried = false,
): void {
  const upstreamReq = request({
    host: target.upstream.host,
    port: target.upstream.port,
    method: req.method,
    path: target.path,
    headers: target.headers,
    agent,
  });
  upstreamReq.on('response', (upstreamRes) => {
    const headers = [...forwardableResponseHeaders(upstreamRes.rawHeaders), ...target.responseHeaders, ...extraHeaders];
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    // Server-sent events and slow streams must reach the client as they are produced.
    res.flushHeaders();
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    upstreamRes.on('aborted', () => res.destroy());
    upstreamRes.on('close', () => {
      if (!upstreamRes.complete) res.destroy();
    });
  });
  upstreamReq.on('error', () => {
    if (res.headersSent) return void res.destroy();
    // A kept-alive connection the app closed as it was reused: Go's http.Transport (Daytona's
    // proxy) retries a bodiless GET/HEAD once on a new connection, so does the emulator.
    if (!retried && upstreamReq.reusedSocket && (req.method === 'GET' || req.method === 'HEAD') && !res.destroyed) {
      return forwardHttp(agent, req, res, target, extraHeaders, onBadGateway, true);
    }
    onBadGateway();
    res.writeHead(502, { 'content-length': 0 });
    res.end();
  });
  // The client went away before the answer was complete: stop the upstream work too.
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  req.pipe(upstreamReq);
}
