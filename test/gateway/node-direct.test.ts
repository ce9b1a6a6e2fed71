/**
 * The Node edge's direct body path (server.ts sendDirect + fetch-upstream takeNodeBody): a
 * proxied answer's body goes from Daytona's socket to the client's without the Web-stream
 * hop. What the core decided (status, sanitized headers, renewed cookies) must be unchanged,
 * bodies exact, streams still streaming, and a truncated upstream body an error for the client.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { patternSha256 } from '../../demo/emulator/inspector/pattern.js';
import type { Stack as StackT } from '../support/stack.js';

/** The Host header of the `open` sandbox's port 3000 on the gateway. */
const previewHostOf = (s: StackT) => new URL(s.previewOrigin(s.sandboxes.open, 3000)).host;

let stack: Stack;
let token: string;
let cookieHeader: string;

beforeAll(async () => {
  stack = await startStack();
  const l = await stack.launch('bob', stack.sandboxes.open, 3000);
  token = l.grant.accessToken;
  cookieHeader = l.cookieHeader;
});
afterAll(() => stack?.close());

function get(path: string, headers: Record<string, string>, onResponse?: (res: http.IncomingMessage, req: http.ClientRequest) => void) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; error?: Error }>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: stack.gateway.port, path, headers: { host: previewHostOf(stack), ...headers }, agent: false }, (res) => {
      onResponse?.(res, req);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: new Error('aborted') }));
    });
    req.on('error', (error) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), error }));
    req.end();
  });
}

describe('direct body path of the Node edge', () => {
  it('small answer: exact body and length, app headers kept, no Daytona token anywhere', async () => {
    const res = await get('/api/echo?x=1', { 'x-daytona-preview-token': token });
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const echo = JSON.parse(res.body.toString('utf8')) as { path: string; headers: Record<string, string> };
    expect(echo.path).toBe('/api/echo');
    expect(echo.headers['x-daytona-preview-token']).toBeUndefined();
    expect(JSON.stringify(res.headers) + res.body.toString()).not.toContain(stack.emulator.standardToken(stack.sandboxes.open));
  });

  it('large download: every byte, in order (piped with backpressure)', async () => {
    const bytes = 8 * 1024 * 1024 + 123;
    const viaGate = await get(`/download?bytes=${bytes}`, { 'x-daytona-preview-token': token });
    expect(viaGate.status).toBe(200);
    expect(viaGate.body.length).toBe(bytes);
    expect(createHash('sha256').update(viaGate.body).digest('hex')).toBe(patternSha256(bytes));
  });

  it('a stream keeps streaming: the first event arrives long before the answer ends', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: stack.gateway.port, path: '/events', headers: { host: previewHostOf(stack), 'x-daytona-preview-token': token }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('data: tick 1')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
      req.end();
    });
    expect(first).toContain('data: tick 1');
  });

  it('an upstream that dies mid-body is an error for the client, not a complete answer', async () => {
    const res = await get('/fail', { 'x-daytona-preview-token': token });
    expect(res.status).toBe(200);
    expect(res.body.length).toBeLessThan(1_000_000);
    expect(res.error).toBeDefined();
  });

  it('cookies the core adds (server-side renewal) still reach the client', async () => {
    // Only the refresh cookie: the gateway renews inside the request and sets both cookies again.
    const refreshOnly = cookieHeader.split('; ').filter((c) => c.startsWith('__Host-pg-refresh=')).join('; ');
    const res = await get('/api/echo', { cookie: refreshOnly, 'sec-fetch-mode': 'cors' });
    expect(res.status).toBe(200);
    const names = (res.headers['set-cookie'] ?? []).map((c) => c.split('=', 1)[0]);
    expect(names).toEqual(expect.arrayContaining(['__Host-pg-access', '__Host-pg-refresh']));
  });
});
