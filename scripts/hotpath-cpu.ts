/**
 * `node --import tsx scripts/hotpath-cpu.ts`: CPU time per small proxied request, the gateway
 * against a minimal Node proxy (node:http server + http.request on a keep-alive Agent, one
 * header injected) and, when installed, nginx: all in front of the same upstream (the
 * emulator's preview proxy), loaded by the same generator (its own process, a fixed number of
 * requests at a fixed concurrency), rounds interleaved (A B C A B C) so a busy shared machine
 * hits all alike. CPU per request (utime + stime from /proc over a fixed count) is far steadier
 * than req/s on a loaded machine; req/s is printed too, for what it is worth.
 *
 * Env: HOTPATH_REQUESTS (per round, default 20000), HOTPATH_METHOD=POST (with a JSON body of
 * HOTPATH_BODY_BYTES, default 256: an app's API calls), HOTPATH_ROUNDS (default 3),
 * HOTPATH_CONCURRENCY (default 16), HOTPATH_GATEWAY_FLAGS (node flags for the gateway, e.g.
 * `--max-semi-space-size=8` as `npm run gateway` sets it), GATEWAY_ENTRY (default dist/gateway.mjs: run
 * `npm run build:gateway` first; a .ts runs through tsx), HOTPATH_BYTES=0 (skip the "minimal+bytes" row:
 * the minimal proxy carrying the gateway's headers both ways, what the product's bytes cost without
 * its logic), HOTPATH_STRACE=1 (after the rounds, `strace -c` of each Node proxy under one more load:
 * the kernel's share), HOTPATH_PROFILE=1 (the gateway under
 * --cpu-prof, the profile in .tmp/profiles/; HOTPATH_PROFILE=heap: --heap-prof, what stays allocated;
 * HOTPATH_PROFILE=alloc: every allocation, garbage included (scripts/alloc-sampling.mjs); the minimal proxy's in .tmp/profiles/minimal/), HOTPATH_NGINX=0 (skip nginx), HOTPATH_BASELINE=path
 * (a second gateway bundle, e.g. one built from an earlier commit, measured in the same rounds
 * as "baseline": a before/after under the same load; HOTPATH_BASELINE_FLAGS="--flag" starts it with
 * node flags, e.g. the same bundle with another V8 heap size), HOTPATH_PAIRED=1 (with a baseline: the gateway
 * and the baseline loaded at the same time in each round, the fairest before/after on a busy machine),
 * HOTPATH_VARIANTS="--flag-a=1;--flag-b=2 --flag-c" (more gateways, the same bundle started with those
 * node flags, each a row "gateway <flags>": e.g. V8 heap sizes). Every row also gives the peak RSS
 * (VmHWM, reset before each round) of the proxy during its rounds.
 * Used for the "Hot path: before and after" section of docs/benchmarks.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { childPids, cpuMsOf, freePort, memoryOf, resetPeak, startProcess, sysMsOf } from '../bench/processes.js';
import { signedPreviewHost } from '../bench/systems.js';
import { launchGrant } from '../bench/setup.js';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REQUESTS = Number(process.env.HOTPATH_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.HOTPATH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.HOTPATH_CONCURRENCY ?? 16);
const PATH = process.env.HOTPATH_PATH ?? '/api/echo';
// HOTPATH_METHOD=POST: each request carries a JSON body of HOTPATH_BODY_BYTES (default 256): an app's API calls.
const METHOD = process.env.HOTPATH_METHOD ?? 'GET';
const BODY_BYTES = METHOD === 'GET' || METHOD === 'HEAD' ? 0 : Number(process.env.HOTPATH_BODY_BYTES ?? 256);
const tsx = ['--import', 'tsx'];

/** Everything the run started, so a run that fails half-way (a baseline that will not start) stops it all too. */
const started: { stop(): unknown }[] = [];

// The node child processes and free ports of the benchmark itself (bench/processes.ts).
const start = async (args: string[], env: Record<string, string>, wait: string[]) => {
  const proc = await startProcess(process.execPath, args, env, wait);
  started.push(proc);
  return proc;
};

/**
 * The minimal Node proxy of issue 9 (bench/minimal-proxy.mjs, the one the bench runs): the floor a
 * Node gateway is compared with; with `MINIMAL_BYTES=1`, "minimal + the gateway's bytes" (that
 * file says which headers). Resolves with the process and its port.
 */
async function startMinimal(env: Record<string, string>, profArgs: string[]) {
  const proc = await start([...profArgs, join(import.meta.dirname, '..', 'bench', 'minimal-proxy.mjs')], env, ['PROXY_PORT']);
  return { proc, port: Number(proc.values.PROXY_PORT) };
}

/** GET through a target, its status, header bytes as written on the wire (approximately: name: value CRLF) and body. */
function probe(t: Target, path: string): Promise<{ status: number; headerBytes: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.port, path, headers: { ...t.headers, host: t.host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        let headerBytes = 0;
        for (let i = 0; i < res.rawHeaders.length; i += 2) headerBytes += res.rawHeaders[i]!.length + res.rawHeaders[i + 1]!.length + 4;
        resolve({ status: res.statusCode ?? 0, headerBytes, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The load: a fixed number of GETs at a fixed concurrency, from its own process. */
const LOAD = `
const http = require('node:http');
const { port, host, headers, path, total, concurrency, method, bodyBytes } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const body = bodyBytes > 0 ? Buffer.from(JSON.stringify({ data: 'x'.repeat(Math.max(0, bodyBytes - 11)) })) : null;
const get = () => new Promise((resolve, reject) => {
  const h = body ? { ...headers, host, 'content-type': 'application/json', 'content-length': String(body.length) } : { ...headers, host };
  const req = http.request({ host: '127.0.0.1', port, path, agent, method, headers: h }, (res) => {
    res.on('data', () => {}); res.on('end', () => resolve(res.statusCode)); res.on('error', reject);
  });
  req.on('error', reject); req.end(body ?? undefined);
});
(async () => {
  await Promise.all(Array.from({ length: concurrency }, get));
  process.stdout.write('WARM\\n');
  await new Promise((r) => process.stdin.once('data', r));
  let left = total, bad = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) { const s = await get(); if (s !== 200) bad++; }
  }));
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ count: total, bad, rps: total / s }) + '\\n', () => process.exit(0));
})();
`;

interface Target {
  name: string;
  pids: () => number[];
  port: number;
  host: string;
  headers: Record<string, string>;
}

function runLoad(t: Target): Promise<{ rps: number; bad: number; cpuUs: number; sysUs: number }> {
  return new Promise((resolve, reject) => {
    const job = JSON.stringify({
      port: t.port,
      host: t.host,
      headers: t.headers,
      path: PATH,
      total: REQUESTS,
      concurrency: CONCURRENCY,
      method: METHOD,
      bodyBytes: BODY_BYTES,
    });
    const child = spawn(process.execPath, ['-e', LOAD, job], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let cpu0 = 0;
    let sys0 = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('WARM\n') && cpu0 === 0) {
        cpu0 = t.pids().reduce((a, p) => a + cpuMsOf(p), 0) || 1e-9;
        sys0 = t.pids().reduce((a, p) => a + sysMsOf(p), 0);
        child.stdin.write('go\n');
      }
    });
    child.on('exit', () => {
      const cpu1 = t.pids().reduce((a, p) => a + cpuMsOf(p), 0);
      const sys1 = t.pids().reduce((a, p) => a + sysMsOf(p), 0);
      try {
        const r = JSON.parse(out.trim().split('\n').pop()!);
        resolve({ rps: r.rps, bad: r.bad, cpuUs: ((cpu1 - cpu0) * 1000) / REQUESTS, sysUs: ((sys1 - sys0) * 1000) / REQUESTS });
      } catch (e) {
        reject(e);
      }
    });
  });
}

function startNginx(port: number, upPort: number, upHost: string, token: string): { pid: () => number[]; stop(): void } | null {
  if (process.env.HOTPATH_NGINX === '0' || spawnSync('nginx', ['-v']).error) return null;
  const dir = join(tmpdir(), `pg-hotpath-nginx-${process.pid}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon on; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log crit;
events { worker_connections 4096; }
http { access_log off; upstream up { server 127.0.0.1:${upPort}; keepalive 64; }
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header Host ${upHost}; proxy_set_header X-Daytona-Preview-Token ${token}; proxy_set_header X-Daytona-Skip-Preview-Warning true; proxy_buffering off; } } }
`,
  );
  const r = spawnSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  if (r.status !== 0) return null;
  const master = () => Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
  return {
    pid: () => [master(), ...childPids(master())],
    stop: () => {
      // nginx stops itself; wait (up to 5 s) until its master is gone, then remove its directory.
      spawnSync('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-s', 'stop'], { stdio: 'ignore' });
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(master(), 0);
        } catch {
          break; // gone
        }
        spawnSync('sleep', ['0.1']);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const [emuPort, gatePort, nginxPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const secret = 'bench-secret-bench-secret-bench-secret';
  const emulator = await start([...tsx, 'demo/emulator/main.ts'], { EMULATOR_PORT: String(emuPort) }, ['DAYTONA_API_URL', 'SANDBOX_ID', 'PREVIEW_TOKEN']);
  const { DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID, PREVIEW_TOKEN } = emulator.values as Record<string, string>;
  const entry = process.env.GATEWAY_ENTRY ?? 'dist/gateway.mjs';
  const profDir = join(import.meta.dirname, '..', '.tmp', 'profiles');
  // HOTPATH_PROFILE=heap: what stays allocated (--heap-prof); =alloc: every allocation, garbage included.
  const profMode = process.env.HOTPATH_PROFILE;
  const prof =
    profMode === '1'
      ? ['--cpu-prof', '--cpu-prof-dir', profDir]
      : profMode === 'heap'
        ? ['--heap-prof', '--heap-prof-dir', profDir, '--heap-prof-interval', '4096']
        : profMode === 'alloc'
          ? ['--import', join(import.meta.dirname, 'alloc-sampling.mjs')]
          : [];
  if (prof.length) {
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
  }
  // Every gateway of the run (measured, baseline, variants) alike but for its port.
  const gatewayEnv = (port: number) => ({
    GATE_PORT: String(port),
    DAYTONA_API_URL: DAYTONA_API_URL!,
    DAYTONA_API_KEY: DAYTONA_API_KEY ?? 'emulator-key',
    GATE_USER_JWT_SECRET: secret,
    GATE_LOG: 'off',
    GATE_ACCESS_TTL: '3600', // one token for the whole run, however slow the machine
  });
  const gatewayFlags = (process.env.HOTPATH_GATEWAY_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const gateway = await start([...prof, ...gatewayFlags, ...(entry.endsWith('.ts') ? [...tsx, entry] : [entry])], gatewayEnv(gatePort), ['GATEWAY_URL']);
  const baselineEntry = process.env.HOTPATH_BASELINE;
  const basePort = await freePort();
  const baselineFlags = (process.env.HOTPATH_BASELINE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const baseline = baselineEntry ? await start([...baselineFlags, baselineEntry], gatewayEnv(basePort), ['GATEWAY_URL']) : null;
  const variants: { flags: string; port: number; proc: Awaited<ReturnType<typeof start>> }[] = [];
  for (const flags of (process.env.HOTPATH_VARIANTS ?? '')
    .split(';')
    .map((f) => f.trim())
    .filter(Boolean)) {
    const port = await freePort();
    const proc = await start([...flags.split(/\s+/), entry], gatewayEnv(port), ['GATEWAY_URL']);
    variants.push({ flags, port, proc });
  }
  const daytonaHost = `3000-${SANDBOX_ID}.proxy.localhost:${emuPort}`;
  // Profiled too under HOTPATH_PROFILE (in .tmp/profiles/minimal/): the same native costs side by side.
  const minProf = profMode === '1' ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, 'minimal')] : [];
  const { proc: minimal, port: minPort } = await startMinimal({ UPSTREAM_PORT: String(emuPort), UPSTREAM_HOST: daytonaHost, TOKEN: PREVIEW_TOKEN! }, minProf);
  const nginx = startNginx(nginxPort, emuPort, daytonaHost, PREVIEW_TOKEN!);
  if (nginx) started.push(nginx);

  // An access token for each gateway of the run, obtained the real way (user session → launch code → grant).
  const grantOf = (port: number) => launchGrant({ gatePort: port, sandboxId: SANDBOX_ID!, secret });
  const grant = await grantOf(gatePort);
  const previewHost = grant.previewHost;

  const targets: Target[] = [
    { name: 'gateway', pids: () => [gateway.child.pid!], port: gatePort, host: previewHost, headers: { 'x-daytona-preview-token': grant.accessToken } },
    { name: 'minimal', pids: () => [minimal.child.pid!], port: minPort, host: `127.0.0.1:${minPort}`, headers: {} },
  ];
  // minimal+bytes: the identity assertion's real length, read from what the inspector app got through the gateway.
  let bytesProxy: Awaited<ReturnType<typeof start>> | null = null;
  if (process.env.HOTPATH_BYTES !== '0') {
    const seen = JSON.parse((await probe(targets[0]!, PATH)).body) as { headers?: Record<string, string> };
    const identityBytes = String(seen.headers?.['x-preview-gate-identity'] ?? '').length;
    if (identityBytes === 0) throw new Error(`${PATH} through the gateway did not show an x-preview-gate-identity`);
    const signedHost = await signedPreviewHost(DAYTONA_API_URL!, DAYTONA_API_KEY ?? 'emulator-key', SANDBOX_ID!);
    const bytes = await startMinimal(
      { UPSTREAM_PORT: String(emuPort), UPSTREAM_HOST: signedHost, TOKEN: '', MINIMAL_BYTES: '1', IDENTITY_BYTES: String(identityBytes) },
      prof.length ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, 'minimal-bytes')] : [],
    );
    bytesProxy = bytes.proc;
    const bytesPort = bytes.port;
    const bp = bytesProxy;
    targets.push({
      name: 'minimal+bytes',
      pids: () => [bp.child.pid!],
      port: bytesPort,
      host: `3000-${SANDBOX_ID}.preview.localhost:${bytesPort}`,
      headers: { 'x-daytona-preview-token': grant.accessToken },
    });
    console.error(`identity assertion: ${identityBytes} bytes; minimal+bytes upstream host ${signedHost}`);
  }
  // The bytes each system answers with (header bytes as parsed, body length): the byte floor is fair only if they match.
  for (const t of targets) {
    const p = await probe(t, PATH);
    console.error(`${t.name}: answer ${p.status}, headers ~${p.headerBytes} B, body ${Buffer.byteLength(p.body)} B`);
  }
  if (nginx) targets.push({ name: 'nginx', pids: nginx.pid, port: nginxPort, host: `127.0.0.1:${nginxPort}`, headers: {} });
  if (baseline) {
    const grant2 = await grantOf(basePort);
    targets.push({
      name: 'baseline',
      pids: () => [baseline.child.pid!],
      port: basePort,
      host: grant2.previewHost,
      headers: { 'x-daytona-preview-token': grant2.accessToken },
    });
  }
  for (const v of variants) {
    const grantV = await grantOf(v.port);
    targets.push({
      name: `gateway ${v.flags}`,
      pids: () => [v.proc.child.pid!],
      port: v.port,
      host: grantV.previewHost,
      headers: { 'x-daytona-preview-token': grantV.accessToken },
    });
  }
  const results: Record<string, { rps: number; cpuUs: number; sysUs: number; peakMb: number }[]> = {};
  const straced: Record<string, string> = {};
  try {
    // Warm-up: every system once, unmeasured (the gateway's JIT above all).
    for (const t of targets) await runLoad(t);
    // HOTPATH_PAIRED=1: the gateway and the baseline are loaded at the same time in each round,
    // so whatever else the machine does hits both alike (on a shared machine CPU per request
    // drifts by ±20% between consecutive rounds; at the same moment the two stay comparable).
    const paired = process.env.HOTPATH_PAIRED === '1' && baseline !== null;
    const groups: Target[][] = paired
      ? [
          targets.filter((t) => t.name === 'gateway' || t.name === 'baseline'),
          ...targets.filter((t) => t.name !== 'gateway' && t.name !== 'baseline').map((t) => [t]),
        ]
      : targets.map((t) => [t]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const group of groups) {
        for (const t of group) for (const pid of t.pids()) resetPeak(pid);
        const rs = await Promise.all(group.map((t) => runLoad(t)));
        group.forEach((t, i) => {
          const r = { ...rs[i]!, peakMb: t.pids().reduce((a, pid) => a + memoryOf(pid).hwmMb, 0) };
          if (r.bad) throw new Error(`${t.name}: ${r.bad} answers were not 200`);
          (results[t.name] ??= []).push(r);
          console.error(`round ${round + 1} ${t.name}: ${r.cpuUs.toFixed(0)} µs CPU/request (kernel ${r.sysUs.toFixed(0)}), ${r.rps.toFixed(0)} req/s`);
        });
      }
    }
    // HOTPATH_STRACE=1: syscalls of each Node proxy under one more load (not measured: strace slows it down).
    if (process.env.HOTPATH_STRACE === '1') {
      for (const t of targets.filter((x) => x.name !== 'nginx')) {
        const file = join(tmpdir(), `pg-hotpath-strace-${process.pid}-${t.name.replace(/\W/g, '_')}.txt`);
        const st = spawn('strace', ['-c', '-f', '-o', file, ...t.pids().flatMap((p) => ['-p', String(p)])], { stdio: 'ignore' });
        await new Promise((r) => setTimeout(r, 500));
        await runLoad(t);
        st.kill('SIGINT');
        await new Promise((r) => st.once('exit', r));
        straced[t.name] = readFileSync(file, 'utf8');
        rmSync(file, { force: true });
      }
    }
  } finally {
    await gateway.stop();
    await baseline?.stop();
    for (const v of variants) await v.proc.stop();
    await minimal.stop();
    await bytesProxy?.stop();
    nginx?.stop();
    await emulator.stop();
  }
  const med = (name: string, k: 'rps' | 'cpuUs' | 'sysUs' | 'peakMb') => median(results[name]!.map((r) => r[k]));
  console.log(
    `\n${REQUESTS} requests x ${ROUNDS} rounds, ${CONCURRENCY} concurrent, ${METHOD} ${PATH}${BODY_BYTES ? ` (${BODY_BYTES} B body)` : ''}; medians (spread min-max)`,
  );
  console.log('| system | CPU µs/request | of which kernel (stime) | req/s | CPU vs minimal | req/s vs nginx | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const t of targets) {
    const xs = results[t.name]!;
    const spread = (k: 'rps' | 'cpuUs' | 'peakMb') => `${Math.min(...xs.map((r) => r[k])).toFixed(0)}-${Math.max(...xs.map((r) => r[k])).toFixed(0)}`;
    const vsNginx = nginx ? (med(t.name, 'rps') / med('nginx', 'rps')).toFixed(2) : 'n/a';
    console.log(
      `| ${t.name} | ${med(t.name, 'cpuUs').toFixed(0)} (${spread('cpuUs')}) | ${med(t.name, 'sysUs').toFixed(0)} (${((100 * med(t.name, 'sysUs')) / med(t.name, 'cpuUs')).toFixed(0)}%) | ${med(t.name, 'rps').toFixed(0)} (${spread('rps')}) | ${(med(t.name, 'cpuUs') / med('minimal', 'cpuUs')).toFixed(2)} | ${vsNginx} | ${Math.max(...xs.map((r) => r.peakMb)).toFixed(0)} |`,
    );
  }
  if (results['minimal+bytes']) {
    const [m, b, g] = ['minimal', 'minimal+bytes', 'gateway'].map((n) => med(n, 'cpuUs')) as [number, number, number];
    console.log(
      `\nbyte floor: the gateway's bytes cost the minimal proxy ${(b - m).toFixed(0)} µs/request; the gateway is ${(g - m).toFixed(0)} µs above it: ` +
        `${((100 * (b - m)) / (g - m)).toFixed(0)}% bytes, ${((100 * (g - b)) / (g - m)).toFixed(0)}% the gateway's JavaScript (gateway ${(g / b).toFixed(2)}× minimal+bytes)`,
    );
  }
  for (const [name, text] of Object.entries(straced)) console.log(`\nstrace -c of ${name} (one load of ${REQUESTS} requests):\n${text.trim()}`);
  if (results.baseline) {
    // Paired by round: the gateway's CPU per request over the baseline's in the same round.
    const ratios = results.gateway!.map((r, i) => r.cpuUs / results.baseline![i]!.cpuUs);
    console.log(`\ngateway / baseline CPU per request, by round: ${ratios.map((x) => x.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)})`);
  }
}

main().catch(async (e) => {
  console.error(e);
  for (const proc of started) await proc.stop();
  process.exit(1);
});
