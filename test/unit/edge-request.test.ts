/**
 * broker/node/edge-request.ts: the edge lane's request view reads like a fetch Request. Its body
 * (a small declared one through the body source, a chunked one as a stream) comes out whole
 * through `text()` and `clone()`, its headers have Fetch's semantics, `instanceof Request`
 * holds, and its signal aborts when the client leaves before its answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeRequest } from '../../broker/node/edge-request.js';
import { edgeBody } from '../../broker/node/handover.js';
import { ClientAbort } from '../../broker/node/client-abort.js';
import { bodySourceOf } from '../../broker/core/http/body-source.js';

let server: http.Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Serves one request with `handle(view)`, sends it with `send(req)`; resolves with what `handle` returned. */
async function viewOf<T>(
  method: string,
  headers: Record<string, string>,
  send: (req: http.ClientRequest) => void,
  handle: (view: Request, res: http.ServerResponse) => Promise<T>,
): Promise<T> {
  let result!: Promise<T>;
  server = http.createServer((incoming, outgoing) => {
    const abort = new ClientAbort(incoming, outgoing);
    const body = method === 'GET' || method === 'HEAD' ? null : edgeBody(incoming, 1024);
    const view = edgeRequest(incoming, method, `http://3000-x.preview.localhost${incoming.url}`, abort, body);
    result = handle(view, outgoing);
    result.then(
      () => outgoing.end('ok'),
      () => outgoing.destroy(),
    );
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const req = http.request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, method, path: '/p?q=1', headers, agent: false });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  send(req);
  await new Promise((r) => setTimeout(r, 20));
  while (!result) await new Promise((r) => setTimeout(r, 5));
  return result;
}

describe('the edge request view reads like a fetch Request', () => {
  it('a small declared body: read through the body source, whole, by clone() and text()', async () => {
    const out = await viewOf(
      'POST',
      { 'content-type': 'text/plain', 'X-Two': 'a' },
      (req) => req.end('hello view'),
      async (view) => ({
        isRequest: view instanceof Request,
        hasSource: bodySourceOf(view) !== undefined,
        cloned: await view.clone().text(),
        text: await view.text(),
        url: view.url,
        method: view.method,
        two: view.headers.get('x-two'),
      }),
    );
    expect(out).toEqual({
      isRequest: true,
      hasSource: true,
      cloned: 'hello view',
      text: 'hello view',
      url: 'http://3000-x.preview.localhost/p?q=1',
      method: 'POST',
      two: 'a',
    });
  });

  it('a chunked body (no Content-Length): a stream over the socket, whole', async () => {
    const out = await viewOf(
      'PUT',
      { 'transfer-encoding': 'chunked' },
      (req) => {
        req.write('part one, ');
        setTimeout(() => req.end('part two'), 10);
      },
      async (view) => ({ hasSource: bodySourceOf(view) !== undefined, text: await view.text() }),
    );
    expect(out).toEqual({ hasSource: false, text: 'part one, part two' });
  });

  it('a GET has no body, whatever came with it', async () => {
    const out = await viewOf(
      'GET',
      {},
      (req) => req.end(),
      async (view) => ({ body: view.body, text: await view.text() }),
    );
    expect(out).toEqual({ body: null, text: '' });
  });

  it('its signal aborts when the client leaves before the answer; not before', async () => {
    const out = await viewOf(
      'GET',
      {},
      (req) => {
        req.end();
        setTimeout(() => req.destroy(), 50);
      },
      async (view) => {
        const before = view.signal.aborted;
        await new Promise<void>((resolve) => view.signal.addEventListener('abort', () => resolve()));
        return { before, after: view.signal.aborted, name: (view.signal.reason as Error).name };
      },
    );
    expect(out).toEqual({ before: false, after: true, name: 'AbortError' });
  });
});
