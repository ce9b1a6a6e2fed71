/**
 * Load generator, run as its own process so it never shares an event loop with a server under
 * test. Reads one JSON job from argv[2], prints one JSON result line.
 *   {kind:'requests', target, path, concurrency, seconds}   → {count, errors, rps, p50, p99}
 *   {kind:'download', target, path, repeat}                → {bytes, seconds, mbps}
 *   {kind:'upload', target, path, bytes, repeat}           → {bytes, seconds, mbps}
 *   {kind:'websocket', target, path, messages}             → {messages, seconds, rtPerSec}
 * A target is {port, host, headers}: we connect to 127.0.0.1:port and send Host: host, because
 * Node cannot resolve *.localhost names.
 */
import http from 'node:http';
import { WebSocket } from 'ws';

interface Target {
  port: number;
  host: string;
  headers: Record<string, string>;
}
type Job =
  | { kind: 'requests'; target: Target; path: string; concurrency: number; seconds: number }
  | { kind: 'download'; target: Target; path: string; repeat: number }
  | { kind: 'upload'; target: Target; path: string; bytes: number; repeat: number }
  | { kind: 'websocket'; target: Target; path: string; messages: number };

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(
  t: Target,
  path: string,
  method = 'GET',
  body?: (req: http.ClientRequest) => void,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.port, path, method, agent, headers: { ...t.headers, ...extraHeaders, host: t.host } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body(req);
    else req.end();
  });
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
}

async function runRequests(j: Extract<Job, { kind: 'requests' }>) {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + j.seconds * 1000;
  // Warm-up: open the connections before measuring.
  await Promise.all(Array.from({ length: j.concurrency }, () => request(j.target, j.path).catch(() => null)));
  const start = performance.now();
  await Promise.all(
    Array.from({ length: j.concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const r = await request(j.target, j.path);
          if (r.status !== 200) errors++;
        } catch {
          errors++;
        }
        lat.push(performance.now() - t0);
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { count: lat.length, errors, rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function runDownload(j: Extract<Job, { kind: 'download' }>) {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < j.repeat; i++) bytes += (await request(j.target, j.path)).bytes;
  const seconds = (performance.now() - t0) / 1000;
  return { bytes, seconds, mbps: bytes / 1e6 / seconds };
}

async function runUpload(j: Extract<Job, { kind: 'upload' }>) {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const t0 = performance.now();
  for (let i = 0; i < j.repeat; i++) {
    // With Content-Length, as a browser sends a Blob, File or FormData (a chunked upload is
    // only what a streaming fetch body sends).
    await request(
      j.target,
      j.path,
      'POST',
      (req) => {
        let sent = 0;
        const pump = () => {
          while (sent < j.bytes) {
            const n = Math.min(chunk.length, j.bytes - sent);
            sent += n;
            if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      },
      { 'content-length': String(j.bytes) },
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  return { bytes: j.bytes * j.repeat, seconds, mbps: (j.bytes * j.repeat) / 1e6 / seconds };
}

async function runWebSocket(j: Extract<Job, { kind: 'websocket' }>) {
  const ws = new WebSocket(`ws://127.0.0.1:${j.target.port}${j.path}`, {
    headers: { ...j.target.headers, host: j.target.host },
    origin: `http://${j.target.host}`,
  });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  // Warm-up (not timed), as the request runner opens its connections first: the first few
  // hundred round trips measure JIT compilation, not the relay.
  for (let i = 0; i < 300; i++) {
    await new Promise<void>((res) => {
      ws.once('message', () => res());
      ws.send(`w${i}`);
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < j.messages; i++) {
    await new Promise<void>((res) => {
      ws.once('message', () => res());
      ws.send(`m${i}`);
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  return { messages: j.messages, seconds, rtPerSec: j.messages / seconds };
}

const runners = { requests: runRequests, download: runDownload, upload: runUpload, websocket: runWebSocket } as const;
runners[job.kind](job as never)
  .then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  })
  .catch((e: unknown) => {
    console.log(JSON.stringify({ error: String(e) }));
    process.exit(1);
  });
