/**
 * The whole gateway over real sockets (startGateway: @hono/node-server, the direct socket-to-
 * socket body path of server.ts, the node:http upstream fetch) between two peers that do not
 * keep up with each other:
 *
 * - a 100 MB download to a client that first stalls, then reads slowly;
 * - a 100 MB upload to an app that first stalls, then reads slowly.
 *
 * Backpressure must leave the bytes with the sender (and in the kernel's socket buffers), never
 * in the gateway. Client, gateway and app share this process, so the figures cover all three;
 * sampled after a forced GC they count what is *referenced*, not garbage awaiting collection.
 * An unbounded buffer anywhere on the path (a pipe or write loop that ignores `write() === false`,
 * a stream queue measured in chunks rather than bytes, a tee, a replay buffer kept for a large
 * body) holds tens of MB of the 100 MB while the peer stalls, far above the bounds asserted.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternChunk, patternSha256 } from '../../../demo/emulator/index.js';
import type { RunningGateway } from '../../../broker/node/server.js';
import { gatewayForLocalApp } from '../../support/local-app-gateway.js';

const SIZE = 100 * 1024 * 1024;
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const SANDBOX = 'slowpeer1';
const SECRET = 'slow-peer-secret-slow-peer-secret-0123';
/** Referenced Buffer memory allowed above the start, in MiB (a buffered body would be ~100). */
const BUFFER_BOUND_MIB = 32;
/** RSS growth allowed, in MiB: generous (heap growth, allocator slack), still below a buffered 100 MB. */
const RSS_BOUND_MIB = 90;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Peak referenced memory above a baseline taken at creation, sampled with `sample()`. */
function memoryWatch() {
  gc();
  const base = process.memoryUsage();
  let buffers = 0;
  let rss = 0;
  return {
    sample() {
      gc();
      const now = process.memoryUsage();
      buffers = Math.max(buffers, now.arrayBuffers - base.arrayBuffers);
      rss = Math.max(rss, now.rss - base.rss);
    },
    get buffersMiB() {
      return buffers / MiB;
    },
    get rssMiB() {
      return rss / MiB;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads `source` slowly: nothing for `stallMs` (sampling memory meanwhile), then pauses
 * `pauseMs` after every `everyBytes`, sampling at each pause. Resolves with bytes and SHA-256.
 */
function slowRead(
  source: http.IncomingMessage,
  watch: ReturnType<typeof memoryWatch>,
  stallMs = 1_000,
  everyBytes = 4 * MiB,
  pauseMs = 20,
): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let nextPause = everyBytes;
    source.pause();
    source.on('error', reject);
    source.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes >= nextPause) {
        nextPause += everyBytes;
        source.pause();
        watch.sample();
        setTimeout(() => source.resume(), pauseMs);
      }
    });
    source.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    void (async () => {
      for (let t = 0; t < stallMs; t += 250) {
        await sleep(250);
        watch.sample();
      }
      source.resume();
    })();
  });
}

let close: (() => Promise<void>) | undefined;
let gateway: RunningGateway;
let previewHost: string;
let accessToken: string;
/** Set by each test: how the app reads an upload. */
let uploadWatch: ReturnType<typeof memoryWatch> | null = null;

beforeAll(async () => {
  // The "sandbox app" behind Daytona: a fast pattern download and a slow upload reader.
  const app = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    if (req.method === 'GET' && url.pathname === '/download') {
      const total = Number(url.searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(CHUNK, total - sent);
          const ok = res.write(patternChunk(sent, n));
          sent += n;
          if (!ok) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/upload') {
      void slowRead(req, uploadWatch ?? memoryWatch()).then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        () => res.destroy(),
      );
      return;
    }
    res.writeHead(404).end();
  });
  // Behind a real gateway, with an access token got the real way (user session → launch code → token).
  const own = await gatewayForLocalApp(app, SANDBOX, SECRET);
  gateway = own.gateway;
  previewHost = own.host;
  accessToken = own.access;
  close = own.close;
});

afterAll(async () => {
  await close?.();
});

describe('slow peers through the gateway over sockets', () => {
  it('a 100 MB download to a client that stalls and reads slowly is held back upstream, not buffered', async () => {
    const watch = memoryWatch();
    const result = await new Promise<{ status: number; bytes: number; sha256: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: gateway.port,
          path: `/download?bytes=${SIZE}`,
          headers: { host: previewHost, 'x-daytona-preview-token': accessToken },
          agent: false,
        },
        (res) => void slowRead(res, watch).then((r) => resolve({ status: res.statusCode ?? 0, ...r }), reject),
      );
      req.on('error', reject);
      req.end();
    });
    expect(result.status).toBe(200);
    expect(result.bytes).toBe(SIZE);
    expect(result.sha256).toBe(patternSha256(SIZE));
    expect(watch.buffersMiB).toBeLessThan(BUFFER_BOUND_MIB);
    expect(watch.rssMiB).toBeLessThan(RSS_BOUND_MIB);
  });

  it('a 100 MB upload to an app that stalls and reads slowly is held back at the client, not buffered', async () => {
    const watch = memoryWatch();
    uploadWatch = watch;
    const sent = createHash('sha256');
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: gateway.port,
          path: '/upload',
          method: 'POST',
          headers: { host: previewHost, 'x-daytona-preview-token': accessToken, 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      let offset = 0;
      const pump = () => {
        while (offset < SIZE) {
          const chunk = patternChunk(offset, Math.min(CHUNK, SIZE - offset));
          sent.update(chunk);
          offset += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    uploadWatch = null;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ bytes: SIZE, sha256: sent.digest('hex') });
    expect(watch.buffersMiB).toBeLessThan(BUFFER_BOUND_MIB);
    expect(watch.rssMiB).toBeLessThan(RSS_BOUND_MIB);
  });
});
