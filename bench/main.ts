/**
 * `npm run bench`: preview-gate against direct Daytona access and against nginx, same upstream
 * (the emulator's preview proxy and inspector app), same load generator, one run. The machine
 * is noisy, so only ratios measured in the same run are reported. Not part of `npm test`.
 *
 *   direct   client ──► emulator preview proxy (Daytona token in the header)
 *   nginx    client ──► nginx (injects one fixed Daytona token) ──► emulator
 *   gateway  client ──► preview-gate (verifies our JWT, swaps tokens, strips credentials) ──► emulator
 */
import { spawn, spawnSync } from 'node:child_process';
import { freePort, memoryOf, startProcess } from './processes.js';
import { startNginx } from './nginx.js';
import { launchGrant } from './setup.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DOWNLOAD_BYTES = 50_000_000;
const tsx = ['--import', 'tsx'];

interface Target { port: number; host: string; headers: Record<string, string> }

function runLoad(job: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsx, 'bench/load.ts', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '{}');
        if (r.error) reject(new Error(r.error));
        else resolve(r);
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function main() {
  const emuPort = await freePort();
  const gatePort = await freePort();
  const nginxPort = await freePort();
  const secret = 'bench-secret-bench-secret-bench-secret';

  const emulator = await startProcess(process.execPath, [...tsx, 'demo/emulator/main.ts'], { EMULATOR_PORT: String(emuPort) }, ['DAYTONA_API_URL', 'SANDBOX_ID', 'PREVIEW_TOKEN']);
  const { DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID, PREVIEW_TOKEN } = emulator.values as Record<string, string>;
  // The gateway runs as `npm run gateway` runs it: the bundle (BENCH_GATEWAY=tsx: the sources through tsx).
  const viaTsx = process.env.BENCH_GATEWAY === 'tsx';
  if (!viaTsx) {
    const built = spawnSync(process.execPath, ['broker/node/bundle.mjs'], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('bundling the gateway failed');
  }
  const gateway = await startProcess(
    process.execPath,
    viaTsx ? [...tsx, 'broker/node/main.ts'] : ['dist/gateway.mjs'],
    { GATE_PORT: String(gatePort), DAYTONA_API_URL: DAYTONA_API_URL!, DAYTONA_API_KEY: DAYTONA_API_KEY ?? 'emulator-key', GATE_USER_JWT_SECRET: secret, GATE_LOG: 'off' },
    ['GATEWAY_URL'],
  );
  const daytonaHost = `3000-${SANDBOX_ID}.proxy.localhost:${emuPort}`;
  const nginx = await startNginx({ port: nginxPort, upstreamPort: emuPort, upstreamHost: daytonaHost, token: PREVIEW_TOKEN! });

  // An access token through the real launch flow.
  const { previewHost, accessToken } = await launchGrant({ gatePort, sandboxId: SANDBOX_ID!, secret });

  const targets: Record<string, Target> = {
    direct: { port: emuPort, host: daytonaHost, headers: { 'x-daytona-preview-token': PREVIEW_TOKEN!, 'x-daytona-skip-preview-warning': 'true' } },
    gateway: { port: gatePort, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } },
  };
  if (nginx) targets.nginx = { port: nginxPort, host: `127.0.0.1:${nginxPort}`, headers: {} };

  const gatePid = gateway.child.pid!;
  const memIdle = memoryOf(gatePid);
  const nginxIdle = nginx?.memory();
  const results: Record<string, Record<string, Record<string, number>>> = {};
  const phaseMemory: string[] = [];
  for (const [name, target] of Object.entries(targets)) {
    // The gateway's resident memory after each phase says which kind of load grows it.
    const phase = <T>(label: string, r: T): T => {
      if (name === 'gateway') phaseMemory.push(`${label} ${memoryOf(gatePid).rssMb.toFixed(0)}`);
      return r;
    };
    results[name] = {
      small: phase('small', await runLoad({ kind: 'requests', target, path: '/api/echo', concurrency: CONCURRENCY, seconds: SECONDS })),
      download: phase('download', await runLoad({ kind: 'download', target, path: `/download?bytes=${DOWNLOAD_BYTES}`, repeat: 3 })),
      upload: phase('upload', await runLoad({ kind: 'upload', target, path: '/upload', bytes: DOWNLOAD_BYTES, repeat: 2 })),
      websocket: phase('websocket', await runLoad({ kind: 'websocket', target, path: '/ws', messages: 2000 })),
    };
    console.error(`bench: ${name} done`);
  }
  const memAfter = memoryOf(gatePid);
  const nginxAfter = nginx?.memory();

  const r = (a: number | undefined, b: number | undefined) => (a && b ? (a / b).toFixed(2) : 'n/a');
  const rows: string[] = [];
  const line = (label: string, key: string, field: string, unit: string, higherBetter: boolean) => {
    const g = results.gateway?.[key]?.[field];
    const d = results.direct?.[key]?.[field];
    const n = results.nginx?.[key]?.[field];
    rows.push(`| ${label} | ${d?.toFixed(1)} ${unit} | ${n?.toFixed(1) ?? 'n/a'} ${unit} | ${g?.toFixed(1)} ${unit} | ${r(g, d)} | ${r(g, n)} | ${higherBetter ? 'higher' : 'lower'} is better |`);
  };
  line(`small GET, ${CONCURRENCY} concurrent`, 'small', 'rps', 'req/s', true);
  line('small GET p50 latency', 'small', 'p50', 'ms', false);
  line('small GET p99 latency', 'small', 'p99', 'ms', false);
  line('50 MB download', 'download', 'mbps', 'MB/s', true);
  line('50 MB upload', 'upload', 'mbps', 'MB/s', true);
  line('WebSocket echo round trips', 'websocket', 'rtPerSec', '/s', true);
  console.log(`\ngateway run as ${viaTsx ? 'TypeScript through tsx' : 'the bundle dist/gateway.mjs (as npm run gateway)'}, GATE_LOG=off`);
  console.log('\n| measure | direct | nginx | gateway | gateway/direct | gateway/nginx | |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(`\nmemory: gateway RSS idle ${memIdle.rssMb.toFixed(0)} MB, after ${memAfter.rssMb.toFixed(0)} MB, peak ${memAfter.hwmMb.toFixed(0)} MB` +
    (nginxIdle && nginxAfter ? `; nginx RSS idle ${nginxIdle.rssMb.toFixed(0)} MB, after ${nginxAfter.rssMb.toFixed(0)} MB, peak ${nginxAfter.hwmMb.toFixed(0)} MB; peak ratio gateway/nginx ${r(memAfter.hwmMb, nginxAfter.hwmMb)}` : ''));
  console.log(`gateway RSS after each phase (MB): ${phaseMemory.join(', ')}`);
  const errors = Object.entries(results).map(([n, x]) => `${n}: ${x.small?.errors ?? '?'} errors`).join(', ');
  console.log(`errors during small-request load: ${errors}`);

  await nginx?.stop();
  await gateway.stop();
  await emulator.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
