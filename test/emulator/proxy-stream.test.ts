/**
 * Streaming through the emulated proxy: WebSockets (inspector echo and a foreign WebSocket
 * server bound as a target, like a Vite HMR socket), a 50 MB download whose memory cost must
 * not grow with its size, a streamed upload, server-sent events arriving as they are produced.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { patternChunk, patternSha256, startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { hostOf } from './proxy-request.js';

// A real garbage collection before each memory reading, so what is measured is what is retained.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let emu: Emulator;
let id: string;
let token: string;
let hmr: Server;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  // A foreign app with its own WebSocket subprotocol, standing in for a Vite dev server.
  hmr = createServer((_req, res) => res.end('dev server'));
  const wss = new WebSocketServer({ server: hmr, handleProtocols: (protocols) => (protocols.has('vite-hmr') ? 'vite-hmr' : false) });
  wss.on('connection', (ws, req) => ws.send(JSON.stringify({ type: 'connected', host: req.headers.host })));
  await new Promise<void>((resolve) => hmr.listen(0, '127.0.0.1', resolve));
  ({ id } = await emu.createSandbox({ ports: { 5173: { target: `http://127.0.0.1:${(hmr.address() as AddressInfo).port}` } } }));
  token = emu.standardToken(id);
});
afterAll(async () => {
  await emu.close();
  hmr.closeAllConnections();
  await new Promise((resolve) => hmr.close(resolve));
});

function openWs(port: number, path: string, headers: Record<string, string>, protocols?: string): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${emu.port}${path}`, protocols, { headers: { host: hostOf(emu.previewUrl(id, port)), ...headers } });
}

describe('WebSockets', () => {
  it('the inspector echoes text and binary frames through the proxy', async () => {
    const ws = openWs(3000, '/ws', { 'x-daytona-preview-token': token });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const replies: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data, isBinary) => {
        replies.push(isBinary ? [...(data as Buffer)] : data.toString());
        if (replies.length === 2) resolve();
      }),
    );
    ws.send('hello through the proxy');
    ws.send(Buffer.from([1, 2, 3]));
    await done;
    expect(replies).toEqual(['hello through the proxy', [1, 2, 3]]);
    ws.close();
  });

  it('a browser upgrade is never shown the warning page', async () => {
    const ws = openWs(3000, '/ws', { 'x-daytona-preview-token': token, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0' });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.close();
  });

  it('an upgrade without a credential gets the 307 (the known problem for browsers)', async () => {
    const ws = openWs(3000, '/ws', {});
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(307);
  });

  it('upgrades to a target binding pass through with their subprotocol (Vite HMR style), Host rewritten', async () => {
    const ws = openWs(5173, '/', { 'x-daytona-preview-token': token }, 'vite-hmr');
    const first = await new Promise<string>((resolve, reject) => ws.once('message', (d) => resolve(d.toString())).once('error', reject));
    expect(ws.protocol).toBe('vite-hmr');
    expect(JSON.parse(first)).toEqual({ type: 'connected', host: 'localhost:5173' });
    ws.close();
  });
});

describe('HTTP streaming', () => {
  it('a 50 MB download streams through with backpressure: memory does not grow with its size', async () => {
    const total = 50 * 1024 * 1024;
    const live = (): number => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = live();
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    let retainedWhilePaused = 0;
    const t0 = performance.now();
    const result = await new Promise<{ bytes: number; sha: string; status: number }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: emu.port,
          path: `/download?bytes=${total}`,
          headers: { host: hostOf(emu.previewUrl(id, 3000)), 'x-daytona-preview-token': token },
          agent: false,
        },
        (res) => {
          const hash = createHash('sha256');
          let bytes = 0;
          let paused = false;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            hash.update(c);
            // A slow reader: stop reading after 2 MB for 600 ms. Without backpressure the proxy
            // would now hold the remaining ~48 MB in memory; with it, the producer waits.
            if (!paused && bytes > 2 * 1024 * 1024) {
              paused = true;
              res.pause();
              setTimeout(() => {
                retainedWhilePaused = live() - base;
                res.resume();
              }, 600);
            }
          });
          res.on('end', () => resolve({ bytes, sha: hash.digest('hex'), status: res.statusCode ?? 0 }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    const ms = performance.now() - t0 - 600;
    clearInterval(sampler);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(
      `50 MB download: ${ms.toFixed(0)} ms of transfer (+600 ms pause), live heap+buffers retained while the reader paused: ${mb(retainedWhilePaused)} MB, peak RSS growth ${mb(peakRss - baseRss)} MB`,
    );
    expect(result.status).toBe(200);
    expect(result.bytes).toBe(total);
    expect(result.sha).toBe(patternSha256(total));
    // Checked by mutation: with `pipe` replaced by write-without-drain in forward.ts, this reads ~47 MB.
    // Peak RSS is reported, not asserted: it also counts garbage the collector has not reclaimed yet.
    expect(retainedWhilePaused).toBeLessThan(30 * 1024 * 1024);
  });

  it('a 20 MB upload streams through to /upload, produced with backpressure', async () => {
    const total = 20 * 1024 * 1024;
    const answer = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: emu.port,
          method: 'POST',
          path: '/upload',
          headers: { host: hostOf(emu.previewUrl(id, 3000)), 'x-daytona-preview-token': token, 'content-type': 'application/octet-stream' },
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(JSON.parse(text)));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          const n = Math.min(65536, total - sent);
          const ok = req.write(patternChunk(sent, n));
          sent += n;
          if (!ok) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(answer).toEqual({ bytes: total, sha256: patternSha256(total) });
  });

  it('server-sent events arrive one by one while the stream stays open', async () => {
    const arrivals: number[] = [];
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: emu.port,
          path: '/events',
          headers: { host: hostOf(emu.previewUrl(id, 3000)), 'x-daytona-preview-token': token },
          agent: false,
        },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.on('data', (c: Buffer) => {
            for (const _ of c.toString().matchAll(/^data: tick/gm)) arrivals.push(performance.now() - t0);
            if (arrivals.length >= 3) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    // Ticks are 100 ms apart at the source; buffering would deliver them together at the end.
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThan(120);
    expect(arrivals[2]!).toBeLessThan(2000);
  });
});
