/**
 * `npm run soak -- --seconds N [--flood N] [--concurrency N] [--rounds-per-session N] [--snapshots DIR] [--json]`:
 * mixed traffic against a gateway *process* (`broker/node/main.ts`, spawned here) in front of
 * the Daytona emulator (in this process): from `--concurrency` simulated users for N seconds,
 * each opening a preview session, using it for `--rounds-per-session` rounds (page loads with
 * subresources, status calls, a WebSocket reconnect per round, worker and cookie renewals, share
 * links) and ending it. Reports errors (target zero), the gateway's resident memory (RSS, from
 * /proc/<pid>) beside its V8 heap in use after a full collection (what the gateway really keeps:
 * the probe scripts/soak-probe.mjs answers over IPC), open file descriptors over time, and
 * latency percentiles as clients see them. `--snapshots DIR` writes heap snapshots after warm-up
 * and at the end, for `node scripts/soak-heap-diff.mjs` (writing one stops the gateway for
 * seconds: requests in flight then may time out). Then, with `--flood N`, requests for N made-up
 * sandbox ids (bounded to 60 s) must each get a clear coded error while memory stays bounded.
 *
 * Rate limits are off in the soak's gateway (GATE_RATE_LIMITS=off): every simulated user comes
 * from 127.0.0.1, and each renews and reconnects far more often than a person does (a round
 * takes well under a second), which is the point of a soak; the limits are measured by
 * test/limits/ instead.
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
  /** Rounds of use per preview session before it is ended and the next opened (default 5; 1: a session per round). */
  roundsPerSession?: number;
  /** Write heap snapshots of the gateway after warm-up and at the end into this folder. */
  snapshotDir?: string;
  log?: (line: string) => void;
}

export interface SoakSample {
  t: number;
  rssMiB: number;
  /** V8 heap in use right after a full collection: what the gateway still references. */
  heapUsedMiB: number;
  /** V8 heap reserved (what V8 grew to; RSS follows it, not `heapUsedMiB`). */
  heapTotalMiB: number;
  fds: number;
  requests: number;
}

export interface SoakReport {
  seconds: number;
  /** Samples from this second on count as "after warm-up" in `memory`. */
  warmupSeconds: number;
  /** Ranges after warm-up, MiB. */
  memory: { rssMiB: [number, number]; heapUsedMiB: [number, number]; heapTotalMiB: [number, number]; fds: [number, number] };
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

const toMiB = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Asks the gateway's probe (scripts/soak-probe.mjs) over IPC. */
function createProbe(child: ChildProcess) {
  let next = 0;
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  child.on('message', (m: { id?: number }) => {
    const done = typeof m?.id === 'number' ? waiting.get(m.id) : undefined;
    if (done) {
      waiting.delete(m.id!);
      done(m as Record<string, unknown>);
    }
  });
  const ask = (msg: Record<string, unknown>, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++next;
      const t = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`soak: the gateway's probe did not answer ${String(msg.op)}`));
      }, timeoutMs);
      waiting.set(id, (m) => {
        clearTimeout(t);
        if (m.ok) resolve(m);
        else reject(new Error(String(m.error)));
      });
      child.send({ ...msg, id });
    });
  return {
    /** Heap figures after a full GC (the gateway runs with --expose-gc for this). */
    async heap(): Promise<{ heapUsedMiB: number; heapTotalMiB: number }> {
      const m = (await ask({ op: 'memory', gc: true })).memory as { heapUsed: number; heapTotal: number };
      return { heapUsedMiB: toMiB(m.heapUsed), heapTotalMiB: toMiB(m.heapTotal) };
    },
    async snapshot(path: string): Promise<string> {
      return String((await ask({ op: 'snapshot', path }, 300_000)).path);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

async function startGatewayProcess(emulator: Emulator, secret: string, maxHeapMiB = 0): Promise<{ child: ChildProcess; port: number }> {
  // One process (no tsx wrapper), so /proc/<pid> is the gateway itself.
  // --max-heap: a heap ceiling tells V8's lazy growth from memory the gateway really keeps.
  // --expose-gc + the probe: the soak samples the heap after a full collection (scripts/soak-probe.mjs).
  const flags = [...(maxHeapMiB ? [`--max-old-space-size=${maxHeapMiB}`] : []), '--expose-gc', '--import', './scripts/soak-probe.mjs'];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'broker/node/main.ts'], {
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
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
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
  const roundsPerSession = Math.max(1, opts.roundsPerSession ?? 5);

  /** A cookie jar of one simulated browser: every answer's Set-Cookie updates it, as a browser does. */
  const jarOf = () => {
    const jar = new Map<string, string>();
    return {
      take(setCookies: string[]) {
        for (const c of setCookies) {
          const [pair = '', ...attrs] = c.split(';');
          const i = pair.indexOf('=');
          const name = pair.slice(0, i).trim();
          if (/max-age=0|expires=thu, 01 jan 1970/i.test(attrs.join(';'))) jar.delete(name);
          else jar.set(name, pair.slice(i + 1).trim());
        }
      },
      header: (only?: string) =>
        [...jar]
          .filter(([n]) => !only || n === only)
          .map(([n, v]) => `${n}=${v}`)
          .join('; '),
    };
  };

  function webSocketEcho(preview: string, cookie: string): Promise<void> {
    return new Promise<void>((resolve) => {
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
  }

  /**
   * One simulated user: opens a preview session, uses it for `roundsPerSession` rounds (each a
   * page load with subresources, a status call, a WebSocket reconnect as a dev server's HMR
   * client makes, worker and cookie renewals, every third round a share link), then ends it
   * and opens the next. `roundsPerSession: 1` is the harshest churn: a session per round.
   */
  async function oneUser(n: number, until: number): Promise<void> {
    const userId = `soak-${n}`;
    const auth = { authorization: `Bearer ${await mintUser(userId)}`, 'content-type': 'application/json' };
    let round = 0;
    while (Date.now() < until) {
      const sandboxId = sandboxes[round % 2]!.id;
      const preview = `3000-${sandboxId}.preview.localhost:${port}`;
      const origin = `http://${preview}`;
      // Launch + exchange (the API call and what the bootstrap does).
      const created = await send('launch', gwHost, '/api/previews', { method: 'POST', headers: auth, body: JSON.stringify({ sandboxId, port: 3000 }) }, [201]);
      if (created.status !== 201) {
        round++;
        continue;
      }
      const { url, sessionId } = JSON.parse(created.body) as { url: string; sessionId: string };
      const code = new URLSearchParams(new URL(url).hash.slice(1)).get('code')!;
      const ex = await send('exchange', preview, '/__gate/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ code }),
      });
      if (ex.status !== 200) {
        round++;
        continue;
      }
      let workerRefresh = (JSON.parse(ex.body) as { refreshToken: string }).refreshToken;
      const jar = jarOf();
      jar.take(ex.setCookies);
      const firstCookie = jar.header();
      for (let r = 0; r < roundsPerSession && Date.now() < until; r++, round++) {
        // A page load: the document and its subresources, with the cookie.
        jar.take((await send('page', preview, '/', { headers: { cookie: jar.header(), accept: 'text/html' } })).setCookies);
        await Promise.all(
          ['/app.js', '/style.css', '/image.png', '/api/echo?x=1', '/api/echo?x=2'].map((p) =>
            send('subresource', preview, p, { headers: { cookie: jar.header() } }),
          ),
        );
        // The embed's status check on the gateway origin.
        await send('api', gwHost, `/api/previews/${sessionId}`, { headers: auth });
        // A WebSocket with the cookie (a reconnect of the same page): one echo.
        await webSocketEcho(preview, jar.header());
        // Renewals: the worker's (Bearer) twice, and a burst of cookie renewals sharing the grace window.
        for (let i = 0; i < 2; i++) {
          const renewed = await send('renew', preview, '/__gate/refresh', { method: 'POST', headers: { origin, authorization: `Bearer ${workerRefresh}` } });
          if (renewed.status === 200) workerRefresh = (JSON.parse(renewed.body) as { refreshToken: string }).refreshToken;
        }
        const refreshOnly = jar.header('__Host-pg-refresh');
        const burst = await Promise.all(
          [1, 2, 3, 4].map((i) => send('cookie-renewal', preview, `/api/echo?r=${i}`, { headers: { cookie: refreshOnly, 'sec-fetch-site': 'same-origin' } })),
        );
        for (const b of burst) jar.take(b.setCookies);
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
      }
      // Revocation: end the session; its cookies then stop working.
      await send('revoke', gwHost, `/api/previews/${sessionId}`, { method: 'DELETE', headers: auth }, [204]);
      await send('revoked-use', preview, '/api/echo', { headers: { cookie: firstCookie } }, [401]);
    }
  }

  const probe = createProbe(child);
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  let sampling: Promise<void> = Promise.resolve();
  const sample = () =>
    (sampling = sampling.then(async () => {
      try {
        const heap = await probe.heap();
        const s = procStats(child.pid!);
        samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMiB: s.rssMiB, ...heap, fds: s.fds, requests });
        log(
          `t=${samples.at(-1)!.t}s rss=${s.rssMiB}MiB heapUsed=${heap.heapUsedMiB}MiB heapTotal=${heap.heapTotalMiB}MiB fds=${s.fds} requests=${requests} errors=${errors}`,
        );
      } catch {
        /* the process is gone: reported by the errors */
      }
    }));
  await sample();
  const sampler = setInterval(sample, Math.max(1000, Math.min(10_000, (opts.seconds * 1000) / 20)));
  // Heap snapshots after warm-up and at the end, for scripts/soak-heap-diff.mjs.
  const snapshots: string[] = [];
  const warmupMs = Math.min(60_000, (opts.seconds * 1000) / 4);
  const snapAt = opts.snapshotDir
    ? setTimeout(() => {
        void probe.snapshot(join(opts.snapshotDir!, 'warm.heapsnapshot')).then(
          (p) => snapshots.push(p),
          () => {},
        );
      }, warmupMs)
    : null;
  const until = Date.now() + opts.seconds * 1000;
  await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => oneUser(i, until)));
  clearInterval(sampler);
  if (snapAt) clearTimeout(snapAt);
  await sample();
  if (opts.snapshotDir) snapshots.push(await probe.snapshot(join(opts.snapshotDir, 'end.heapsnapshot')));
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
        const r = await new Promise<{ status: number; body: string; error?: string }>((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: `3000-${id}.preview.localhost:${port}` } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          });
          // No answer at all: keyed by the socket's error (e.g. `0 ECONNRESET`), so a failure says which.
          req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: err.code ?? err.message }));
          req.end();
        });
        const codeMatch = /"code":"([a-z_]+)"/.exec(r.body);
        const key = `${r.status} ${codeMatch?.[1] ?? r.error ?? 'uncoded'}`;
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
  const warmupSeconds = Math.min(120, Math.round(opts.seconds / 4));
  const warm = samples.filter((x) => x.t >= warmupSeconds);
  const range = (pick: (x: SoakSample) => number): [number, number] => (warm.length ? [Math.min(...warm.map(pick)), Math.max(...warm.map(pick))] : [0, 0]);
  return {
    seconds: opts.seconds,
    warmupSeconds,
    memory: { rssMiB: range((x) => x.rssMiB), heapUsedMiB: range((x) => x.heapUsedMiB), heapTotalMiB: range((x) => x.heapTotalMiB), fds: range((x) => x.fds) },
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
    roundsPerSession: arg('rounds-per-session', 5),
    maxHeapMiB: arg('max-heap', 0),
    ...(process.argv.includes('--snapshots') ? { snapshotDir: process.argv[process.argv.indexOf('--snapshots') + 1]! } : {}),
    log: json ? () => {} : (l) => console.log(l),
  })
    .then((r) => {
      if (json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(`requests=${r.requests} websockets=${r.websockets} errors=${r.errors} p50=${r.p50ms}ms p99=${r.p99ms}ms`);
        console.log(`by kind: ${JSON.stringify(r.byKind)}`);
        const m = r.memory;
        console.log(
          `after warm-up (t ≥ ${r.warmupSeconds} s): rss ${m.rssMiB.join('–')} MiB, heap used after GC ${m.heapUsedMiB.join('–')} MiB, heap reserved ${m.heapTotalMiB.join('–')} MiB, fds ${m.fds.join('–')}`,
        );
        if (r.errorSamples.length) console.log(`error samples:\n  ${r.errorSamples.join('\n  ')}`);
      }
      process.exit(r.errors === 0 && (!r.flood || r.flood.unclear === 0) ? 0 : 1);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
