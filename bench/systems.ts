/**
 * The systems a run compares, all in front of the same upstream (the emulator's preview proxy
 * relaying to the bench app, bench/upstream.ts and bench/app.mjs), each in a process of its own:
 *
 *   direct   client ──► emulator preview proxy (Daytona token in the header; no proxy of ours)
 *   nginx    client ──► nginx (injects one fixed Daytona token) ──► emulator
 *   minimal  client ──► bench/minimal-proxy.mjs (the Node floor, ~30 lines) ──► emulator
 *   minimalBytes  the same proxy with MINIMAL_BYTES=1: the headers the gateway sends and answers
 *            with (same names, same sizes, fixed values, no logic), through a signed preview host
 *            as the gateway's links: the byte floor of the product (small requests only)
 *   gateway  client ──► preview-gate, the bundle dist/gateway.mjs as `npm run gateway` runs it,
 *            GATE_LOG=off (verifies our JWT, swaps tokens, strips credentials) ──► emulator
 *
 * For each: where to send requests (`target`), which processes to charge CPU and memory to.
 * Env: BENCH_GATEWAY=tsx (the sources instead of the bundle), BENCH_GATEWAY_FLAGS="--..."
 * (node flags instead of those of `npm run gateway`).
 */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from './nginx.js';
import { childPids, cpuMsOf, memoryOf, readProbe, resetPeak, startProcess, type ProbeReading, type Started } from './processes.js';
import { launchGrant } from './setup.js';

export interface Target {
  port: number;
  host: string;
  headers: Record<string, string>;
}

export interface System {
  name: 'direct' | 'nginx' | 'minimal' | 'minimalBytes' | 'gateway';
  target: Target;
  /** The proxy's processes (empty for direct: nothing of ours is in the path). */
  pids(): number[];
}

export const SECRET = 'bench-secret-bench-secret-bench-secret';
/** The host page origin browser launches are bound to (bench/scenarios/browser.ts); nothing listens there. */
export const HOST_ORIGIN = 'http://127.0.0.1:9';
/** File descriptors this process may open (the hard limit applies to the servers we start too). */
export function maxFiles(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) ? soft : 1024;
  } catch {
    return 1024;
  }
}

const tsx = ['--import', 'tsx'];

/** The node flags `npm run gateway` starts the bundle with (read from package.json: the bench measures what is shipped). */
function gatewayNodeFlags(): string[] {
  if (process.env.BENCH_GATEWAY_FLAGS !== undefined) return process.env.BENCH_GATEWAY_FLAGS.split(/\s+/).filter(Boolean);
  const script: string = JSON.parse(readFileSync('package.json', 'utf8')).scripts?.gateway ?? '';
  const m = /\bnode((?:\s+--\S+)*)\s+dist\/gateway\.mjs/.exec(script);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

export interface Stack {
  systems: Record<System['name'], System | undefined>;
  sandboxId: string;
  emulatorPort: number;
  controlPort: number;
  daytonaToken: string;
  /** How the gateway is started (another gateway, e.g. with Redis, reuses it). */
  gatewayArgs: string[];
  gatewayEnv: Record<string, string>;
  gatewayPid: number;
  gatewayPort: number;
  /** process.memoryUsage() inside the gateway since the last reading (bench/memory-probe.mjs). */
  gatewayProbe(): Promise<ProbeReading | null>;
  nginxPid?: number;
  minimalPid: number;
  /** The bytes the minimal+bytes proxy reproduces: the identity assertion's length, measured through the gateway. */
  identityBytes: number;
  /** Has the bench app end every WebSocket from its side (bench/app.mjs, SIGUSR2). */
  endAppWebSockets(): void;
  /** Memory of a system's processes, MB (sum over nginx's master and worker). */
  memory(name: System['name']): { rssMb: number; hwmMb: number };
  resetPeak(name: System['name']): void;
  cpuMs(name: System['name']): number;
  emulatorStats(): Promise<Record<string, number>>;
  newSandbox(): Promise<{ id: string; token: string }>;
  stop(): Promise<void>;
}

async function getJson(port: number, path: string, method = 'GET'): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
  return res.json();
}

/** A GET to a target (Host as given: Node's fetch cannot send *.localhost names), its JSON. */
function targetJson(t: Target, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: t.port, path, headers: { ...t.headers, host: t.host } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A signed preview host of port 3000 of the sandbox (what the gateway's links use: the token in
 * the host, and Daytona's auth cookie on every answer), valid for a day.
 */
export async function signedPreviewHost(apiUrl: string, apiKey: string, sandboxId: string): Promise<string> {
  const res = await fetch(`${apiUrl}/sandbox/${sandboxId}/ports/3000/signed-preview-url?expiresInSeconds=86400`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (!res.ok) throw new Error(`signed-preview-url: ${res.status}`);
  return new URL(((await res.json()) as { url: string }).url).host;
}

export async function startStack(): Promise<Stack> {
  const started: Started[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const app = await startProcess(process.execPath, ['bench/app.mjs'], {}, ['APP_PORT']);
    started.push(app);
    const upstream = await startProcess(process.execPath, [...tsx, 'bench/upstream.ts'], { APP_URL: `http://127.0.0.1:${app.values.APP_PORT}` }, [
      'CONTROL_PORT',
    ]);
    started.push(upstream);
    const v = upstream.values as Record<string, string>;
    const emulatorPort = Number(v.EMULATOR_PORT);
    const sandboxId = v.SANDBOX_ID!;
    const daytonaHost = `3000-${sandboxId}.proxy.localhost:${emulatorPort}`;

    const viaTsx = process.env.BENCH_GATEWAY === 'tsx';
    const flags = gatewayNodeFlags();
    const gatewayArgs = viaTsx ? [...flags, ...tsx, 'broker/node/main.ts'] : [...flags, 'dist/gateway.mjs'];
    const gatewayEnv: Record<string, string> = {
      DAYTONA_API_URL: v.DAYTONA_API_URL!,
      DAYTONA_API_KEY: v.DAYTONA_API_KEY ?? 'emulator-key',
      GATE_USER_JWT_SECRET: SECRET,
      GATE_LOG: 'off',
      // The bench mints thousands of sessions and opens thousands of sockets from one user and one
      // address: the abuse limits would (rightly) stop it.
      GATE_RATE_LIMITS: 'off',
      GATE_MAX_SESSIONS_PER_USER: '100000',
      GATE_ALLOWED_ORIGINS: HOST_ORIGIN,
      // One access token serves the whole run (a full run is ~10 minutes; the default lifetime is 5).
      GATE_ACCESS_TTL: '3600',
    };
    // bench/memory-probe.mjs samples process.memoryUsage() inside the gateway; --expose-gc lets
    // it collect before its "still referenced" reading.
    const probeFile = join(tmpdir(), `pg-bench-probe-${process.pid}.json`);
    const probe = ['--expose-gc', '--import', './bench/memory-probe.mjs'];
    const gateway = await startProcess(
      process.execPath,
      [...probe, ...gatewayArgs],
      { ...gatewayEnv, GATE_PORT: '0', PG_MEMORY_PROBE_FILE: probeFile, PG_MEMORY_PROBE_GC: '1' },
      ['GATEWAY_URL'],
    );
    started.push(gateway);
    const gatewayPort = Number(new URL(gateway.values.GATEWAY_URL!).port);
    const gatewayPid = gateway.child.pid!;
    await readProbe(gatewayPid, probeFile); // starts the first window

    const minimal = await startProcess(
      process.execPath,
      ['bench/minimal-proxy.mjs'],
      { UPSTREAM_PORT: String(emulatorPort), UPSTREAM_HOST: daytonaHost, TOKEN: v.PREVIEW_TOKEN! },
      ['PROXY_PORT'],
    );
    started.push(minimal);

    const { freePort } = await import('./processes.js');
    const nginxPort = await freePort();
    // Enough connections for the idle-WebSocket scenario (two per proxied connection).
    const files = maxFiles();
    const nginx = await startNginx({
      port: nginxPort,
      upstreamPort: emulatorPort,
      upstreamHost: daytonaHost,
      token: v.PREVIEW_TOKEN!,
      workerConnections: files - 64,
      maxFiles: files,
    });
    if (nginx) stops.push(() => nginx.stop());

    const { previewHost, accessToken } = await launchGrant({ gatePort: gatewayPort, sandboxId, secret: SECRET });
    const gatewayTarget: Target = { port: gatewayPort, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } };
    // What the gateway sent the app, as the app saw it: the identity assertion's real length.
    const seen = await targetJson(gatewayTarget, '/api/headers');
    const identityBytes = String(seen['x-preview-gate-identity'] ?? '').length;
    if (identityBytes === 0) throw new Error('the gateway sent no x-preview-gate-identity to the app');
    const minimalBytes = await startProcess(
      process.execPath,
      ['bench/minimal-proxy.mjs'],
      {
        UPSTREAM_PORT: String(emulatorPort),
        UPSTREAM_HOST: await signedPreviewHost(v.DAYTONA_API_URL!, v.DAYTONA_API_KEY ?? 'emulator-key', sandboxId),
        TOKEN: v.PREVIEW_TOKEN!,
        MINIMAL_BYTES: '1',
        IDENTITY_BYTES: String(identityBytes),
      },
      ['PROXY_PORT'],
    );
    started.push(minimalBytes);
    const minimalBytesPort = Number(minimalBytes.values.PROXY_PORT);
    const systems: Stack['systems'] = {
      direct: {
        name: 'direct',
        target: { port: emulatorPort, host: daytonaHost, headers: { 'x-daytona-preview-token': v.PREVIEW_TOKEN!, 'x-daytona-skip-preview-warning': 'true' } },
        pids: () => [],
      },
      nginx: nginx
        ? { name: 'nginx', target: { port: nginxPort, host: `127.0.0.1:${nginxPort}`, headers: {} }, pids: () => [nginx.pid, ...childPids(nginx.pid)] }
        : undefined,
      minimal: {
        name: 'minimal',
        target: { port: Number(minimal.values.PROXY_PORT), host: `127.0.0.1:${minimal.values.PROXY_PORT}`, headers: {} },
        pids: () => [minimal.child.pid!],
      },
      minimalBytes: {
        name: 'minimalBytes',
        // The gateway's request bytes: a preview host of the same length, the access token (which it drops).
        target: {
          port: minimalBytesPort,
          host: `3000-${sandboxId}.preview.localhost:${minimalBytesPort}`,
          headers: { 'x-daytona-preview-token': accessToken },
        },
        pids: () => [minimalBytes.child.pid!],
      },
      gateway: { name: 'gateway', target: gatewayTarget, pids: () => [gatewayPid] },
    };
    const pidsOf = (name: System['name']) => systems[name]?.pids() ?? [];
    return {
      systems,
      sandboxId,
      emulatorPort,
      controlPort: Number(v.CONTROL_PORT),
      daytonaToken: v.PREVIEW_TOKEN!,
      gatewayArgs,
      gatewayEnv,
      gatewayPid,
      gatewayPort,
      gatewayProbe: () => readProbe(gatewayPid, probeFile),
      nginxPid: nginx?.pid,
      minimalPid: minimal.child.pid!,
      identityBytes,
      endAppWebSockets: () => void app.child.kill('SIGUSR2'),
      memory: (name) =>
        pidsOf(name)
          .map(memoryOf)
          .reduce((a, b) => ({ rssMb: a.rssMb + b.rssMb, hwmMb: a.hwmMb + b.hwmMb }), { rssMb: 0, hwmMb: 0 }),
      resetPeak: (name) => {
        for (const pid of pidsOf(name)) resetPeak(pid);
      },
      cpuMs: (name) => pidsOf(name).reduce((a, p) => a + cpuMsOf(p), 0),
      emulatorStats: () => getJson(Number(v.CONTROL_PORT), '/stats'),
      newSandbox: () => getJson(Number(v.CONTROL_PORT), '/sandbox', 'POST'),
      async stop() {
        rmSync(probeFile, { force: true });
        for (const s of stops) await s();
        for (const s of started.reverse()) await s.stop();
      },
    };
  } catch (e) {
    for (const s of stops) await s().catch(() => {});
    for (const s of started.reverse()) await s.stop().catch(() => {});
    throw e;
  }
}
