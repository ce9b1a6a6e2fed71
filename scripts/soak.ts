/**
 * `npm run soak -- --seconds N [--flood N] [--concurrency N] [--json]`: mixed traffic against a
 * gateway *process* (`broker/node/main.ts`, spawned here) in front of the Daytona emulator (in
 * this process): page loads with subresources, broker API calls, WebSockets, renewals,
 * revocations and share links, from `--concurrency` simulated users for N seconds. Reports
 * errors (target zero), the gateway's resident memory and open file descriptors over time (read
 * from /proc/<pid>), and latency percentiles as clients see them. Then, with `--flood N`,
 * requests for N made-up sandbox ids (bounded to 60 s) must each get a clear coded error while
 * memory stays bounded.
 *
 * Rate limits are off in the soak's gateway (GATE_RATE_LIMITS=off): every simulated user comes
 * from 127.0.0.1, and the per-address limits are measured by test/limits/ instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../demo/emulator/index.js';

export interface SoakOptions {
  seconds: number;
  flood: number;
  concurrency: number;
  /** V8 old-space ceiling of the gateway process in MiB (0: Node's default). */
  maxHeapMiB?: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  t: number;
  rssMiB: number;
  fds: number;
  requests: number;
}

export interface SoakReport {
  seconds: number;
  requests: number;
  websockets: number;
  errors: number;
  errorSamples: string[];
  byKind: Record<string, number>;
  p50ms: number;
  p99ms: number;
  samples: SoakSample[];
  flood: null | {
    ids: number;
    seconds: number;
    byAnswer: Record<string, number>;
    unclear: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    fdsAfter: number;
  };
}

const root = join(import.meta.dirname, '..');

function procStats(pid: number): { rssMiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round((rssKb / 1024) * 10) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

async function startGatewayProcess(emulator: Emulator, secret: string, maxHeapMiB = 0): Promise<{ child: ChildProcess; port: number }> {
  // One process (no tsx wrapper), so /proc/<pid> is the gateway itself.
  // --max-heap: a heap ceiling tells V8's lazy growth from memory the gateway really keeps.
  const child = spawn(process.execPath, [...(maxHeapMiB ? [`--max-old-space-size=${maxHeapMiB}`] : []), '--import', 'tsx', 'broker/node/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      GATE_PORT: '0',
      GATE_USER_JWT_SECRET: secret,
      GATE_LOG: 'off',
      GATE_RATE_LIMITS: 'off',
      DAYTONA_API_URL: emulator.apiUrl,
      DAYTONA_API_KEY: emulator.apiKey,
      DAYTONA_TARGET: 'us',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/GATEWAY_URL=\S+:(\d+)\n/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`soak: the gateway did not start: ${err.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port: Number(/GATEWAY_URL=\S+:(\d+)\n/.exec(out)![1]) };
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const emulator = await startEmulator({ port: 0 });
  const secret = randomBytes(32).toString('base64url');
  const { child, port } = await startGatewayProcess(emulator, secret, opts.maxHeapMiB ?? 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const sandboxes = await Promise.all([0, 1].map(() => emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })));
  const gwHost = `127.0.0.1:${port}`;
  const latencies: number[] = [];
  const byKind: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let requests = 0;
  let websockets = 0;

  function send(
    kind: string,
    hostHeader: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    expect: number[] = [200],
    retried = false,
  ): Promise<{ status: number; body: string; setCookies: string[] }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const req = http.request(
        { host: '127.0.0.1', port, path, method: init.method ?? 'GET', agent, headers: { host: hostHeader, ...init.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies.push(performance.now() - started);
            requests++;
            byKind[kind] = (byKind[kind] ?? 0) + 1;
            const body = Buffer.concat(chunks).toString();
            if (!expect.includes(res.statusCode ?? 0)) {
              errors++;
              if (errorSamples.length < 20) errorSamples.push(`${kind} ${res.statusCode} ${body.slice(0, 160)}`);
            }
            const sc = res.headers['set-cookie'];
            resolve({ status: res.statusCode ?? 0, body, setCookies: Array.isArray(sc) ? sc : sc ? [sc] : [] });
          });
          res.on('error', () => resolve({ status: 0, body: '', setCookies: [] }));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        // An idle keep-alive socket the server closed just as it was reused (before any answer):
        // browsers send such a request again on a fresh connection (Chromium does so for any
        // method), and so does the soak, once.
        if (!retried && req.reusedSocket && e.code === 'ECONNRESET') {
          resolve(send(kind, hostHeader, path, init, expect, true));
          return;
        }
        errors++;
        if (errorSamples.length < 20) errorSamples.push(`${kind} network ${e.message}`);
        resolve({ status: 0, body: '', setCookies: [] });
      });
      req.end(init.body);
    });
  }

  const mintUser = (id: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(secret));
  const cookieOf = (setCookies: string[]) => setCookies.map((c) => c.split(';', 1)[0]).join('; ');

  async function oneUser(n: number, until: number): Promise<void> {
    const userId = `soak-${n}`;
    const auth = { authorization: `Bearer ${await mintUser(userId)}`, 'content-type': 'application/json' };
    let round = 0;
    while (Date.now() < until) {
      round++;
      const sandboxId = sandboxes[round % 2]!.id;
      const preview = `3000-${sandboxId}.preview.localhost:${port}`;
      const origin = `http://${preview}`;
      // Launch + exchange (the API call and what the bootstrap does).
      const created = await send('launch', gwHost, '/api/previews', { method: 'POST', headers: auth, body: JSON.stringify({ sandboxId, port: 3000 }) }, [201]);
      if (created.status !== 201) continue;
      const { url, sessionId } = JSON.parse(created.body) as { url: string; sessionId: string };
      const code = new URLSearchParams(new URL(url).hash.slice(1)).get('code')!;
      const ex = await send('exchange', preview, '/__gate/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ code }),
      });
      if (ex.status !== 200) continue;
      const grant = JSON.parse(ex.body) as { refreshToken: string; accessToken: string };
      const cookie = cookieOf(ex.setCookies);
      // A page load: the document and its subresources, with the cookie.
      await send('page', preview, '/', { headers: { cookie, accept: 'text/html' } });
      await Promise.all(
        ['/app.js', '/style.css', '/image.png', '/api/echo?x=1', '/api/echo?x=2'].map((p) => send('subresource', preview, p, { headers: { cookie } })),
      );
      // API calls on the gateway origin.
      await send('api', gwHost, `/api/previews/${sessionId}`, { headers: auth });
      // A WebSocket with the cookie: one echo.
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: preview, cookie } });
        const timer = setTimeout(() => {
          errors++;
          errorSamples.length < 20 && errorSamples.push('websocket timeout');
          ws.terminate();
          resolve();
        }, 10_000);
        ws.on('open', () => ws.send('ping'));
        ws.on('message', () => {
          websockets++;
          clearTimeout(timer);
          ws.close();
          resolve();
        });
        ws.on('error', (e) => {
          clearTimeout(timer);
          errors++;
          errorSamples.length < 20 && errorSamples.push(`websocket ${e.message}`);
          resolve();
        });
      });
      // Renewals: the worker's (Bearer) and a burst of cookie renewals sharing the grace window.
      const renewed = await send('renew', preview, '/__gate/refresh', { method: 'POST', headers: { origin, authorization: `Bearer ${grant.refreshToken}` } });
      if (renewed.status === 200)
        await send('renew', preview, '/__gate/refresh', {
          method: 'POST',
          headers: { origin, authorization: `Bearer ${(JSON.parse(renewed.body) as { refreshToken: string }).refreshToken}` },
        });
      const refreshOnly = cookie
        .split('; ')
        .filter((c) => c.startsWith('__Host-pg-refresh='))
        .join('; ');
      await Promise.all(
        [1, 2, 3, 4].map((i) => send('cookie-renewal', preview, `/api/echo?r=${i}`, { headers: { cookie: refreshOnly, 'sec-fetch-site': 'same-origin' } })),
      );
      // Share links: create, use as a program, list, revoke, then the revoked link is refused.
      if (round % 3 === 0) {
        const share = await send(
          'share',
          gwHost,
          '/api/shares',
          { method: 'POST', headers: auth, body: JSON.stringify({ sandboxId, port: 3000, ttlSeconds: 600 }) },
          [201],
        );
        if (share.status === 201) {
          const s = JSON.parse(share.body) as { id: string; url: string };
          const u = new URL(s.url);
          await send('share-use', preview, u.pathname + u.search);
          await send('api', gwHost, `/api/shares?sandboxId=${sandboxId}`, { headers: auth });
          await send('share-revoke', gwHost, `/api/shares/${s.id}`, { method: 'DELETE', headers: auth }, [204]);
          await send('share-use', preview, u.pathname + u.search, {}, [401]);
        }
      }
      // Revocation: end the session; its cookie then stops working.
      await send('revoke', gwHost, `/api/previews/${sessionId}`, { method: 'DELETE', headers: auth }, [204]);
      await send('revoked-use', preview, '/api/echo', { headers: { cookie } }, [401]);
    }
  }

  const samples: SoakSample[] = [];
  const t0 = Date.now();
  const sample = () => {
    try {
      const s = procStats(child.pid!);
      samples.push({ t: Math.round((Date.now() - t0) / 1000), ...s, requests });
      log(`t=${samples.at(-1)!.t}s rss=${s.rssMiB}MiB fds=${s.fds} requests=${requests} errors=${errors}`);
    } catch {
      /* the process is gone: reported by the errors */
    }
  };
  sample();
  const sampler = setInterval(sample, Math.max(1000, Math.min(10_000, (opts.seconds * 1000) / 20)));
  const until = Date.now() + opts.seconds * 1000;
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => oneUser(i, until)));
  clearInterval(sampler);
  sample();
  const sorted = [...latencies].sort((a, b) => a - b);

  let flood: SoakReport['flood'] = null;
  if (opts.flood > 0) {
    const before = procStats(child.pid!);
    const byAnswer: Record<string, number> = {};
    let unclear = 0;
    let sent = 0;
    const floodStart = Date.now();
    const floodUntil = floodStart + 60_000;
    const worker = async () => {
      while (sent < opts.flood && Date.now() < floodUntil) {
        sent++;
        const id = randomUUID();
        const r = await new Promise<{ status: number; body: string }>((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: `3000-${id}.preview.localhost:${port}` } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          });
          req.on('error', () => resolve({ status: 0, body: '' }));
          req.end();
        });
        const codeMatch = /"code":"([a-z_]+)"/.exec(r.body);
        const key = `${r.status} ${codeMatch?.[1] ?? 'uncoded'}`;
        byAnswer[key] = (byAnswer[key] ?? 0) + 1;
        if (!codeMatch || r.status < 400) unclear++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const after = procStats(child.pid!);
    flood = {
      ids: sent,
      seconds: Math.round((Date.now() - floodStart) / 100) / 10,
      byAnswer,
      unclear,
      rssBeforeMiB: before.rssMiB,
      rssAfterMiB: after.rssMiB,
      fdsAfter: after.fds,
    };
    log(`flood: ${sent} ids in ${flood.seconds}s, rss ${before.rssMiB} → ${after.rssMiB} MiB, answers ${JSON.stringify(byAnswer)}`);
  }

  agent.destroy();
  child.kill('SIGTERM');
  await new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 8000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
  await emulator.close();
  return {
    seconds: opts.seconds,
    requests,
    websockets,
    errors,
    errorSamples,
    byKind,
    p50ms: percentile(sorted, 50),
    p99ms: percentile(sorted, 99),
    samples,
    flood,
  };
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`soak: --${name} must be a number`);
  return v;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  runSoak({
    seconds: arg('seconds', 60),
    flood: arg('flood', 100_000),
    concurrency: arg('concurrency', 8),
    maxHeapMiB: arg('max-heap', 0),
    log: json ? () => {} : (l) => console.log(l),
  })
    .then((r) => {
      if (json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`requests=${r.requests} websockets=${r.websockets} errors=${r.errors} p50=${r.p50ms}ms p99=${r.p99ms}ms`);
        console.log(`by kind: ${JSON.stringify(r.byKind)}`);
        if (r.errorSamples.length) console.log(`error samples:\n  ${r.errorSamples.join('\n  ')}`);
      }
      process.exit(r.errors === 0 && (!r.flood || r.flood.unclear === 0) ? 0 : 1);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
