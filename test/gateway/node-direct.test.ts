/**
 * The Node edge's direct body paths. Answers (server.ts sendDirect + fetch-upstream
 * takeNodeBody): a proxied answer's body goes from Daytona's socket to the client's without the
 * Web-stream hop (broker/node/handover.ts counts each body that really took it). What the core decided (status, sanitized headers, renewed cookies) must be
 * unchanged, bodies exact, streams still streaming, and a truncated upstream body an error for
 * the client. Uploads (server.ts withDirectBody + fetch-upstream nodeRequestBody): a body
 * declared larger than the replay limit is piped from the client's socket into Daytona's; it
 * must arrive intact, a client that hangs up mid-body must abort the upstream request, and a
 * small body must still be replayable when Daytona rejects a rotated token.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { gatewayForLocalApp } from '../support/local-app-gateway.js';
import { patternChunk, patternSha256 } from '../../demo/emulator/inspector/pattern.js';
import { handoverStats } from '../../broker/node/handover.js';
import { bodySourceStats } from '../../broker/core/http/body-source.js';
import { METRIC } from '../../broker/core/metrics.js';
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
    const req = http.request(
      { host: '127.0.0.1', port: stack.gateway.port, path, headers: { host: previewHostOf(stack), ...headers }, agent: false },
      (res) => {
        onResponse?.(res, req);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (error) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error }));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: new Error('aborted') }));
      },
    );
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
    const directBefore = handoverStats.responses;
    const viaGate = await get(`/download?bytes=${bytes}`, { 'x-daytona-preview-token': token });
    expect(viaGate.status).toBe(200);
    expect(handoverStats.responses).toBe(directBefore + 1); // the direct path, not the Web stream
    expect(viaGate.body.length).toBe(bytes);
    expect(createHash('sha256').update(viaGate.body).digest('hex')).toBe(patternSha256(bytes));
  });

  it('a stream keeps streaming: the first event arrives long before the answer ends', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: stack.gateway.port,
          path: '/events',
          headers: { host: previewHostOf(stack), 'x-daytona-preview-token': token },
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes('data: tick 1')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
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
    const refreshOnly = cookieHeader
      .split('; ')
      .filter((c) => c.startsWith('__Host-pg-refresh='))
      .join('; ');
    const res = await get('/api/echo', { cookie: refreshOnly, 'sec-fetch-mode': 'cors' });
    expect(res.status).toBe(200);
    const names = (res.headers['set-cookie'] ?? []).map((c) => c.split('=', 1)[0]);
    expect(names).toEqual(expect.arrayContaining(['__Host-pg-access', '__Host-pg-refresh']));
  });
});

/** Sends `size` pattern bytes with Content-Length (or chunked, when `headers` say so) in writes of `chunkBytes`; `onWrote(sent, req)` after each write. */
function upload(
  port: number,
  host: string,
  path: string,
  size: number,
  headers: Record<string, string>,
  onWrote?: (sent: number, req: http.ClientRequest) => boolean,
  chunkBytes = 64 * 1024,
) {
  return new Promise<{ status: number; text: string; error?: Error }>((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        // Chunked when the caller says so (no Content-Length beside it: that pair is refused as smuggling).
        headers: { host, 'content-type': 'application/octet-stream', ...(headers['transfer-encoding'] ? {} : { 'content-length': String(size) }), ...headers },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', (error) => resolve({ status: res.statusCode ?? 0, text, error }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, text: '', error }));
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const chunk = patternChunk(sent, Math.min(chunkBytes, size - sent));
        sent += chunk.length;
        const ok = req.write(chunk);
        if (onWrote && !onWrote(sent, req)) return;
        if (!ok) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('direct request-body path of the Node edge', () => {
  it('a large upload (Content-Length above the replay limit) arrives intact', async () => {
    const bytes = 12 * 1024 * 1024 + 77;
    const directBefore = handoverStats.requests;
    const res = await upload(stack.gateway.port, previewHostOf(stack), '/upload', bytes, { 'x-daytona-preview-token': token });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ bytes, sha256: patternSha256(bytes) });
    expect(handoverStats.requests).toBe(directBefore + 1); // piped from the client's socket
  });

  it('a large upload whose client hangs up mid-body aborts the upstream request', async () => {
    const own = await recordingAppGateway('abortup1');
    try {
      const size = 20 * 1024 * 1024;
      const cutAt = 4 * 1024 * 1024;
      const client = await upload(own.port, own.host, '/upload', size, { 'x-daytona-preview-token': own.access }, (sent, req) => {
        if (sent < cutAt) return true;
        setTimeout(() => req.destroy(), 50); // let some of it reach the app first
        return false;
      });
      expect(client.error).toBeDefined();
      await own.done;
      expect(own.ended).toHaveLength(1);
      expect(own.ended[0]!.complete).toBe(false);
      expect(own.ended[0]!.bytes).toBeGreaterThan(0);
      expect(own.ended[0]!.bytes).toBeLessThan(size);
    } finally {
      await own.close();
    }
  });

  it('a small POST body is read from the client socket without a Web stream and arrives exact', async () => {
    const bytes = 3_000;
    const before = bodySourceStats.read;
    const res = await upload(stack.gateway.port, previewHostOf(stack), '/upload', bytes, { 'x-daytona-preview-token': token });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ bytes, sha256: patternSha256(bytes) });
    expect(bodySourceStats.read).toBe(before + 1);
  });

  it('a small chunked POST (no Content-Length) takes the stream path and arrives exact', async () => {
    const bytes = 3_000;
    const before = bodySourceStats.read;
    const res = await upload(stack.gateway.port, previewHostOf(stack), '/upload', bytes, {
      'x-daytona-preview-token': token,
      'transfer-encoding': 'chunked',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ bytes, sha256: patternSha256(bytes) });
    expect(bodySourceStats.read).toBe(before);
  });

  it('a small POST whose client hangs up mid-body is never forwarded as complete', async () => {
    const own = await recordingAppGateway('abortsm1');
    try {
      // Positive control: the same POST sent whole reaches the app complete.
      const whole = await upload(own.port, own.host, '/upload', 2_000, { 'x-daytona-preview-token': own.access });
      expect(whole.status).toBe(200);
      await own.done;
      expect(own.ended).toEqual([{ bytes: 2_000, complete: true }]);
      own.ended.length = 0;
      const readBefore = bodySourceStats.read;
      const client = await upload(
        own.port,
        own.host,
        '/upload',
        2_000,
        { 'x-daytona-preview-token': own.access },
        (sent, req) => {
          // 2,000 declared, the first chunk of it sent, then gone: once the gateway has started
          // reading the body (the counter moves as the read starts), so the read in progress is the
          // one that fails however busy the machine (a fixed 50 ms let a loaded run hang up first).
          void (async () => {
            for (let waited = 0; bodySourceStats.read === readBefore && waited < 2_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
            req.destroy();
          })();
          return sent >= 2_000;
        },
        1_000,
      );
      expect(client.error).toBeDefined();
      await new Promise((r) => setTimeout(r, 300));
      expect(bodySourceStats.read).toBe(readBefore + 1); // the source was read, and failed
      expect(own.ended).toEqual([]); // not even a truncated request reached the app
    } finally {
      await own.close();
    }
  });

  it('a small POST is still replayed when Daytona rejects a revoked signed link', async () => {
    await get('/api/echo', { 'x-daytona-preview-token': token }); // the link is cached
    const retries = () => stack.gateway.app.metrics.value(METRIC.upstreamRetries, { reason: 'token_rejected' });
    const retriesBefore = retries();
    expect(stack.emulator.expireSignedTokens(stack.sandboxes.open)).toBeGreaterThan(0); // the cached link is now refused
    await new Promise((r) => setTimeout(r, 1_050)); // refreshes of one port are rate-limited to one per second
    const bytes = 200_000;
    const directBefore = handoverStats.requests;
    const res = await upload(stack.gateway.port, previewHostOf(stack), '/upload', bytes, { 'x-daytona-preview-token': token });
    expect(res.status).toBe(200);
    expect(handoverStats.requests).toBe(directBefore); // kept in memory for the replay, never piped
    expect(JSON.parse(res.text)).toEqual({ bytes, sha256: patternSha256(bytes) });
    expect(retries()).toBe(retriesBefore + 1);
  });
});

/**
 * A local "sandbox app" that records how each request body ended (bytes, complete), behind a
 * gateway of its own (test/support/local-app-gateway.ts).
 */
async function recordingAppGateway(sandboxId: string) {
  const ended: Array<{ bytes: number; complete: boolean }> = [];
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const app = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200).end('ok'));
    req.on('close', () => {
      ended.push({ bytes, complete: req.complete });
      settle();
    });
  });
  const own = await gatewayForLocalApp(app, sandboxId);
  return { port: own.gateway.port, host: own.host, access: own.access, ended, done, close: own.close };
}
