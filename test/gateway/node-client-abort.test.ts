/**
 * The Node edge's "client went away" hook (broker/node/client-abort.ts): a small proxied request
 * listens to it instead of the client request's AbortSignal (clientAbortStats proves that fast
 * path is taken; upstreamHeaderStats that its upstream headers were one plain record), and a client that hangs up before the answer still ends the upstream request.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/stack.js';
import { gatewayForLocalApp } from '../support/local-app-gateway.js';
import type { RunningGateway } from '../../broker/node/server.js';
import { clientAbortStats } from '../../broker/node/client-abort.js';
import { upstreamHeaderStats } from '../../broker/core/upstream/forward.js';

const secret = 'client-abort-secret-client-abort-secret-01';
let gw: RunningGateway;
let host: string;
let access: string;
let close: (() => Promise<void>) | undefined;
/** How each request to the app's /slow ended: whether the app's side saw it closed. */
const slow: Array<{ closed: Promise<void> }> = [];

beforeAll(async () => {
  // A local "sandbox app": /slow never answers and records when its request closes.
  const app = http.createServer((req, res) => {
    if (req.url === '/slow') {
      slow.push({ closed: new Promise<void>((r) => res.on('close', () => r())) });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('fast');
  });
  const own = await gatewayForLocalApp(app, 'abortget1', secret);
  gw = own.gateway;
  host = own.host;
  access = own.access;
  close = own.close;
}, 60_000);

afterAll(async () => {
  await close?.();
});

describe("the edge's client-abort hook", () => {
  it('a small proxied GET listens to the hook, not to an AbortSignal, and is answered', async () => {
    const before = { ...clientAbortStats };
    const records = upstreamHeaderStats.records;
    const res = await rawRequest(gw.port, host, '/fast', { headers: { 'x-daytona-preview-token': access } });
    expect(res.status).toBe(200);
    expect(res.text).toBe('fast');
    expect(clientAbortStats.listened - before.listened).toBe(1);
    expect(clientAbortStats.aborted - before.aborted).toBe(0); // a finished answer is no abort
    // Its upstream headers were built as one record (upstream/forward.ts upstreamHeaderRecord).
    expect(upstreamHeaderStats.records - records).toBe(1);
  });

  it('a client that hangs up before the answer ends the upstream request', async () => {
    const before = { ...clientAbortStats };
    const count = slow.length;
    const req = http.request({ host: '127.0.0.1', port: gw.port, path: '/slow', headers: { host, 'x-daytona-preview-token': access }, agent: false });
    req.on('error', () => {});
    req.end();
    // Wait until the request reached the app, then hang up.
    const deadline = Date.now() + 20_000;
    while (slow.length === count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(slow.length).toBe(count + 1);
    req.destroy();
    await slow[count]!.closed; // the gateway destroyed its upstream request (else: test timeout)
    expect(clientAbortStats.listened - before.listened).toBe(1);
    expect(clientAbortStats.aborted - before.aborted).toBe(1);
  }, 30_000);
});
