/**
 * Opens the upgrade to Daytona's preview proxy and waits for its answer: a 101 with the raw
 * socket, or any other answer with (the start of) its body. The caller decides what to do with
 * either; nothing is written to the client here.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { isLocalhostName } from '../fetch-upstream.js';
import { handshakeHeaders } from './handshake-headers.js';
import type { RelayOptions, WebSocketTarget } from './relay-options.js';

export type UpstreamAnswer =
  | { kind: 'upgraded'; res: IncomingMessage; socket: Duplex; head: Buffer }
  | { kind: 'response'; res: IncomingMessage; body: Buffer };

const BODY_LIMIT = 8 * 1024;

/**
 * An upgraded socket's error listener until splice() takes over: one function for every
 * socket (`this` is the socket), not a closure, which would keep this request's whole scope
 * (the ClientRequest, the client's request, the options) alive as long as the socket lives.
 */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Sends the upgrade request for `req` to `target`; rejects when Daytona cannot be reached. */
export function openUpstream(req: IncomingMessage, target: WebSocketTarget, opts: RelayOptions, signal: AbortSignal): Promise<UpstreamAnswer> {
  const url = new URL(target.url);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const loopback = (opts.resolveLocalhost ?? true) && isLocalhostName(url.hostname);
  const headers = handshakeHeaders(req, url, target, opts);
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const upstream = (secure ? https : http).request({
      hostname: loopback ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: url.pathname + url.search,
      method: req.method ?? 'GET',
      headers,
      agent: false, // an upgraded socket leaves any pool; no keep-alive bookkeeping
      ...(secure && !loopback ? { servername: url.hostname } : {}),
    });
    const onAbort = () => upstream.destroy(new Error('client went away'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    upstream.setTimeout(opts.timeoutMs ?? 15_000, () => upstream.destroy(new Error('upgrade timed out')));
    upstream.on('error', (err) => {
      done();
      reject(err);
    });
    upstream.on('upgrade', (res, socket, upstreamHead) => {
      socket.on('error', destroyOnError); // until splice() takes over
      done();
      upstream.setTimeout(0);
      resolve({ kind: 'upgraded', res, socket, head: upstreamHead });
    });
    upstream.on('response', (res) => {
      done();
      upstream.setTimeout(0);
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => resolve({ kind: 'response', res, body: Buffer.concat(chunks).subarray(0, BODY_LIMIT) });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // An answer to a failed upgrade is relayed only in part: never wait on an endless body.
        if (size >= BODY_LIMIT) {
          res.destroy();
          finish();
        }
      });
      res.on('end', finish);
      res.on('error', () => finish());
    });
    upstream.end();
  });
}
