/**
 * Load generator, run as its own process so it never shares an event loop with a server under
 * test. Reads one JSON job from argv[2], prints one JSON result line (the last line of stdout).
 *   {kind:'requests', target, path, concurrency, seconds}   → {count, errors, rps, p50, p99}
 *   {kind:'download', target, path, repeat}                → {bytes, seconds, mbps}
 *   {kind:'upload', target, path, bytes, repeat}           → {bytes, seconds, mbps}
 *   {kind:'websocket', target, path, messages}             → {messages, seconds, rtPerSec}
 *   {kind:'idle-ws', target, path, connections}            prints {open, failed, seconds} once all are
 *        open, keeps them open until a line arrives on stdin, waits for them to close (the bench
 *        has the app end them) and prints {closed, leftover}
 *   {kind:'cold', target, path, concurrency}               → {count, errors, p50, max}: that many
 *        requests at once, each on a new connection (the cold path's first requests)
 *   {kind:'mint', gatePort, sandboxId, session, concurrency, seconds} → {count, errors, perSec}:
 *        launch + code exchange (a new preview session with its first access token)
 *   {kind:'refresh', gatePort, previewHost, refreshTokens, seconds} → {count, errors, perSec}:
 *        one rotation chain per refresh token, `POST /__gate/refresh` in a loop
 * A target is {port, host, headers}: we connect to 127.0.0.1:port and send Host: host, because
 * Node cannot resolve *.localhost names.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { launch, post } from './setup.js';
import { percentile } from './stats.js';

interface Target {
  port: number;
  host: string;
  headers: Record<string, string>;
}
type Job =
  | { kind: 'requests'; target: Target; path: string; concurrency: number; seconds: number }
  | { kind: 'download'; target: Target; path: string; repeat: number }
  | { kind: 'upload'; target: Target; path: string; bytes: number; repeat: number }
  | { kind: 'websocket'; target: Target; path: string; messages: number }
  | { kind: 'idle-ws'; target: Target; path: string; connections: number }
  | { kind: 'cold'; target: Target; path: string; concurrency: number }
  | { kind: 'mint'; gatePort: number; sandboxId: string; session: string; concurrency: number; seconds: number }
  | { kind: 'refresh'; gatePort: number; previewHost: string; refreshTokens: string[]; seconds: number };

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(
  t: Target,
  path: string,
  method = 'GET',
  body?: (req: http.ClientRequest) => void,
  extraHeaders: Record<string, string> = {},
  via: http.Agent | false = agent,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.port, path, method, agent: via, headers: { ...t.headers, ...extraHeaders, host: t.host } }, (res) => {
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

async function runRequests(j: Extract<Job, { kind: 'requests' }>) {
  const lat: number[] = [];
  let errors = 0;
  // Open the connections before the clock starts.
  await Promise.all(Array.from({ length: j.concurrency }, () => request(j.target, j.path).catch(() => null)));
  const start = performance.now();
  const end = start + j.seconds * 1000;
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
  return { count: lat.length, errors, rps: lat.length / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function runDownload(j: Extract<Job, { kind: 'download' }>) {
  let bytes = 0;
  let errors = 0;
  let badStatus = 0;
  const t0 = performance.now();
  for (let i = 0; i < j.repeat; i++) {
    const r = await request(j.target, j.path);
    if (r.status !== 200) {
      errors++;
      badStatus = r.status;
    }
    bytes += r.bytes;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { bytes, seconds, errors, badStatus, mbps: bytes / 1e6 / seconds };
}

async function runUpload(j: Extract<Job, { kind: 'upload' }>) {
  const chunk = Buffer.alloc(64 * 1024, 7);
  let errors = 0;
  let badStatus = 0;
  const t0 = performance.now();
  for (let i = 0; i < j.repeat; i++) {
    // With Content-Length, as a browser sends a Blob, File or FormData.
    const r = await request(
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
    if (r.status !== 200) {
      errors++;
      badStatus = r.status;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { bytes: j.bytes * j.repeat, seconds, errors, badStatus, mbps: (j.bytes * j.repeat) / 1e6 / seconds };
}

function openWs(t: Target, path: string, localAddress?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${t.port}${path}`, {
    headers: { ...t.headers, host: t.host },
    origin: `http://${t.host}`,
    perMessageDeflate: false,
    ...(localAddress ? { localAddress } : {}),
  });
  return new Promise((res, rej) => {
    ws.once('open', () => res(ws));
    ws.once('error', rej);
    ws.once('unexpected-response', (_req, r) => rej(new Error(`WebSocket refused: ${r.statusCode}`)));
  });
}

async function runWebSocket(j: Extract<Job, { kind: 'websocket' }>) {
  const ws = await openWs(j.target, j.path);
  const roundTrip = (m: string) =>
    new Promise<void>((res) => {
      ws.once('message', () => res());
      ws.send(m);
    });
  // Warm-up (not timed): the first few hundred round trips measure JIT compilation, not the relay.
  for (let i = 0; i < 300; i++) await roundTrip(`w${i}`);
  const t0 = performance.now();
  for (let i = 0; i < j.messages; i++) await roundTrip(`m${i}`);
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  return { messages: j.messages, seconds, rtPerSec: j.messages / seconds };
}

async function runIdleWs(j: Extract<Job, { kind: 'idle-ws' }>) {
  const sockets: WebSocket[] = [];
  let failed = 0;
  let firstError = '';
  const t0 = performance.now();
  // 100 handshakes in flight at a time: a burst of thousands would measure the accept queue.
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < j.connections) {
        // Spread over 64 loopback source addresses: 10,000 client sockets from 127.0.0.1 alone
        // would take a third of the machine's ephemeral ports (shared with other work).
        const i = next++;
        try {
          const ws = await openWs(j.target, j.path, `127.0.0.${2 + (i % 64)}`);
          ws.on('error', () => {});
          sockets.push(ws);
        } catch (e) {
          failed++;
          firstError ||= String(e);
        }
      }
    }),
  );
  // Every connection proves it is live end to end (one echo) before it goes idle.
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((res) => {
          ws.once('message', () => res());
          ws.send('hi');
        }),
    ),
  );
  console.log(JSON.stringify({ open: sockets.length, failed, seconds: (performance.now() - t0) / 1000, firstError }));
  // On a line from stdin the bench has told the app to end every WebSocket (server side first):
  // wait for them to close, then end what is left from here.
  await new Promise<void>((res) => createInterface({ input: process.stdin }).once('line', () => res()));
  const open = () => sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).length;
  for (let waited = 0; open() > 0 && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const leftover = open();
  for (const ws of sockets) ws.terminate();
  return { closed: sockets.length, leftover };
}

async function runCold(j: Extract<Job, { kind: 'cold' }>) {
  let errors = 0;
  const lat = await Promise.all(
    Array.from({ length: j.concurrency }, async () => {
      const t0 = performance.now();
      try {
        const r = await request(j.target, j.path, 'GET', undefined, {}, false);
        if (r.status !== 200) errors++;
      } catch {
        errors++;
      }
      return performance.now() - t0;
    }),
  );
  lat.sort((a, b) => a - b);
  return { count: lat.length, errors, p50: percentile(lat, 50), max: lat[lat.length - 1] ?? Number.NaN };
}

async function forSeconds(seconds: number, workers: number, op: (worker: number) => Promise<boolean>) {
  let count = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end) {
        if (await op(w).catch(() => false)) count++;
        else errors++;
      }
    }),
  );
  return { count, errors, perSec: count / ((performance.now() - t0) / 1000) };
}

async function runMint(j: Extract<Job, { kind: 'mint' }>) {
  const previewHost = `3000-${j.sandboxId}.preview.localhost:${j.gatePort}`;
  return forSeconds(j.seconds, j.concurrency, async () => {
    const { code } = await launch({ gatePort: j.gatePort, sandboxId: j.sandboxId, session: j.session });
    const r = await post(j.gatePort, previewHost, '/__gate/session', { code });
    return r.status === 200 && typeof r.json?.accessToken === 'string';
  });
}

async function runRefresh(j: Extract<Job, { kind: 'refresh' }>) {
  const tokens = [...j.refreshTokens];
  return forSeconds(j.seconds, tokens.length, async (w) => {
    const r = await post(j.gatePort, j.previewHost, '/__gate/refresh', undefined, { authorization: `Bearer ${tokens[w]}` });
    if (r.status !== 200 || typeof r.json?.refreshToken !== 'string') return false;
    tokens[w] = r.json.refreshToken;
    return true;
  });
}

const runners = {
  requests: runRequests,
  download: runDownload,
  upload: runUpload,
  websocket: runWebSocket,
  'idle-ws': runIdleWs,
  cold: runCold,
  mint: runMint,
  refresh: runRefresh,
} as const;
runners[job.kind](job as never)
  .then((r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  })
  .catch((e: unknown) => {
    console.log(JSON.stringify({ error: String(e) }));
    process.exit(1);
  });
