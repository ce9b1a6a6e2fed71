/**
 * The Node edge's lazy answers (broker/node/lazy-response.ts nodeResponse): Daytona's answer is a
 * Response whose body stays Daytona's socket until someone asks for it, so the usual proxied
 * request makes no Web stream at all (handoverStats.lazy counts the answers sent that way).
 * Whoever does ask gets an ordinary Response: same bytes, clone(), a cut-off body an error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../broker/node/fetch-upstream.js';
import { handoverStats, takeNodeBody } from '../../broker/node/handover.js';
import { startStack, type Stack } from '../support/stack.js';

let server: http.Server;
let base: string;
const fetchUpstream = createNodeFetch();
const big = Buffer.alloc(3 * 1024 * 1024, 7);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/small') return res.writeHead(200, { 'content-type': 'text/plain', 'x-app': 'a' }).end('hello, lazy');
    if (req.url === '/big') return res.writeHead(200, { 'content-length': String(big.length) }).end(big);
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  fetchUpstream.close();
  await new Promise((r) => server.close(r));
});

describe('a lazy upstream answer', () => {
  it('reads like a Response: status, mutable headers, text(), clone(), instanceof', async () => {
    const res = await fetchUpstream(new Request(`${base}/small`));
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    res.headers.set('x-added', 'yes');
    expect(res.headers.get('x-app')).toBe('a');
    const copy = res.clone();
    expect(await res.text()).toBe('hello, lazy');
    expect(await copy.text()).toBe('hello, lazy');
    expect(res.bodyUsed).toBe(true);
    // Asked for its stream: no longer offered for hand-over.
    expect(takeNodeBody(res)).toBeNull();
  });

  it('is handed over without a Web stream: a complete small body read at once', async () => {
    const res = await fetchUpstream(new Request(`${base}/small`));
    await new Promise((r) => setTimeout(r, 50)); // the whole answer has arrived
    const before = handoverStats.lazy;
    const taken = takeNodeBody(res);
    expect(handoverStats.lazy).toBe(before + 1);
    expect(taken?.ended).toBe(true);
    expect(Buffer.concat(taken!.chunks).toString()).toBe('hello, lazy');
    expect(takeNodeBody(res)).toBeNull(); // once only
    await expect(res.text()).rejects.toThrow(/handed over/);
  });

  it('a large body is handed over as the message itself, every byte still in it', async () => {
    const res = await fetchUpstream(new Request(`${base}/big`));
    const taken = takeNodeBody(res)!;
    expect(taken.ended).toBe(false);
    const chunks = [...taken.chunks];
    await new Promise<void>((resolve, reject) => {
      taken.res.on('data', (c: Buffer) => chunks.push(c));
      taken.res.on('end', resolve);
      taken.res.on('error', reject);
    });
    taken.release();
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  it('a body cut off before anyone asked is an error when read, never a short complete body', async () => {
    const res = await fetchUpstream(new Request(`${base}/cut`));
    await new Promise((r) => setTimeout(r, 300)); // cut off meanwhile
    expect(takeNodeBody(res)).toBeNull();
    await expect(res.arrayBuffer()).rejects.toThrow();
  });
});

describe('through the Node edge', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('a small proxied GET is sent without its body stream ever being made', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    const host = new URL(stack.previewOrigin(stack.sandboxes.open, 3000)).host;
    const before = { lazy: handoverStats.lazy, direct: handoverStats.responses };
    const res = await new Promise<{ status: number; body: string; length: number }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: stack.gateway.port,
          path: '/api/echo?lazy=1',
          headers: { host, 'x-daytona-preview-token': l.grant.accessToken },
          agent: false,
        },
        (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body, length: Number(r.headers['content-length']) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).path).toBe('/api/echo');
    expect(res.length).toBe(Buffer.byteLength(res.body));
    expect(handoverStats.lazy - before.lazy).toBe(1);
    expect(handoverStats.responses - before.direct).toBe(1);
  });
});
