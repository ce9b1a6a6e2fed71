/**
 * broker/node/v8-heap.ts in the process the CLI starts (`preview-gate gateway`, run from source:
 * broker/cli/main.ts, which imports the same broker/node/main.ts as the bundle) and in the bundle
 * `npm run gateway` starts (dist/gateway.mjs, built by test/fleet/support/bundle.ts): real
 * processes behind the bench's stack (bench/app.mjs behind the Daytona emulator), a real download
 * through them, V8's full GCs counted inside the gateway by bench/memory-probe.mjs.
 *
 * The state that makes V8 11.3 run a full GC every ~16 MB of a transfer is a full GC at a low
 * old-generation allocation rate: the probe's forced GC (the second: V8 grows the limit by its
 * maximum factor until it has measured its GC speed) makes it at once. Without the headroom (GATE_HEAP_HEADROOM_MB=0, the positive control) the download then
 * takes a full GC per ~16 MB; with it, the runtime `--heap-growing-percent` lets the next full GC
 * leave room, and the rest of the download runs on scavenges alone.
 */
import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProbe, startProcess, type Started } from '../../bench/processes.js';
import { removeLoadScript, runLoad } from '../../bench/run-load.js';
import { launchGrant } from '../../bench/setup.js';
import { growingPercentFor } from '../../broker/node/v8-heap.js';
import { configFromEnv } from '../../broker/node/config-env.js';

/** GATE_HEAP_HEADROOM_MB as configFromEnv reads it (beside a user secret, which every configuration needs). */
const headroomOf = (env: Record<string, string>) => configFromEnv({ GATE_USER_JWT_SECRET: 'x'.repeat(32), ...env }).heapHeadroomMb;
import { gatewayBundle } from '../fleet/support/bundle.js';

const SECRET = 'v8-heap-test-secret-v8-heap-test-secret';
const MB = 1024 * 1024;
const BYTES = 256 * MB;
const root = join(import.meta.dirname, '..', '..');

type Probe = { gc?: { major: number; minor: number } };

let stack: Started[] = [];
let api: { url: string; key: string; sandboxId: string };
let bundle: string;

beforeAll(async () => {
  bundle = await gatewayBundle();
  const app = await startProcess(process.execPath, ['bench/app.mjs'], {}, ['APP_PORT']);
  stack.push(app);
  const up = await startProcess(process.execPath, ['--import', 'tsx', 'bench/upstream.ts'], { APP_URL: `http://127.0.0.1:${app.values.APP_PORT}` }, [
    'CONTROL_PORT',
  ]);
  stack.push(up);
  api = { url: up.values.DAYTONA_API_URL!, key: up.values.DAYTONA_API_KEY ?? 'emulator-key', sandboxId: up.values.SANDBOX_ID! };
}, 120_000);

afterAll(async () => {
  for (const s of stack.reverse()) await s.stop();
  stack = [];
  removeLoadScript();
});

/** Downloads `bytes` through the gateway, reading as fast as it comes. */
function download(port: number, host: string, token: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/download?bytes=${bytes}`, headers: { host, 'x-daytona-preview-token': token } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a gateway by `args` (after the probe), forces one full GC, downloads BYTES: the full GCs and scavenges of the download. */
async function fullGcsOfADownload(args: string[], env: Record<string, string>): Promise<{ major: number; minor: number }> {
  const probeFile = join(tmpdir(), `pg-v8-heap-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  const gw = await startProcess(
    process.execPath,
    ['--expose-gc', '--import', './bench/memory-probe.mjs', ...args],
    {
      GATE_PORT: '0',
      DAYTONA_API_URL: api.url,
      DAYTONA_API_KEY: api.key,
      GATE_USER_JWT_SECRET: SECRET,
      GATE_LOG: 'off',
      GATE_RATE_LIMITS: 'off',
      PG_MEMORY_PROBE_FILE: probeFile,
      PG_MEMORY_PROBE_GC: '1',
      ...env,
    },
    ['GATEWAY_URL'],
  );
  try {
    const port = Number(new URL(gw.values.GATEWAY_URL!).port);
    const { previewHost, accessToken } = await launchGrant({ gatePort: port, sandboxId: api.sandboxId, secret: SECRET });
    // A first full GC (V8 measures its speed: until then it grows the limit by its maximum factor),
    // a download, small requests; then the full GC at a low allocation rate (factor ~1.1).
    await readProbe(gw.child.pid!, probeFile);
    expect(await download(port, previewHost, accessToken, 16 * MB)).toBe(16 * MB);
    const small = await runLoad({
      kind: 'requests',
      target: { port, host: previewHost, headers: { 'x-daytona-preview-token': accessToken } },
      path: '/api/echo',
      concurrency: 8,
      seconds: 3,
    });
    expect(small.count).toBeGreaterThan(100);
    await readProbe(gw.child.pid!, probeFile); // that full GC; the probe's new window starts
    expect(await download(port, previewHost, accessToken, BYTES)).toBe(BYTES);
    const p = (await readProbe(gw.child.pid!, probeFile)) as Probe | null;
    expect(p?.gc).toBeDefined();
    return p!.gc!;
  } finally {
    await gw.stop();
    rmSync(probeFile, { force: true });
  }
}

describe('old-generation headroom during transfers (broker/node/v8-heap.ts)', () => {
  const entries: [string, () => string[]][] = [
    ['the CLI (preview-gate gateway)', () => ['--import', 'tsx', join(root, 'broker/cli/main.ts'), 'gateway']],
    ['the bundle (npm run gateway)', () => ['--max-semi-space-size=8', bundle]],
  ];
  for (const [name, args] of entries)
    it(`a 256 MB download after a full GC runs without a full GC per 16 MB in ${name}; with GATE_HEAP_HEADROOM_MB=0 it does not`, async () => {
      const off = await fullGcsOfADownload(args(), { GATE_HEAP_HEADROOM_MB: '0' });
      const on = await fullGcsOfADownload(args(), {});
      // Positive control: V8's own limits, one full GC per ~16 MB of Buffers (15–18 per 256 MB measured).
      expect(off.major).toBeGreaterThanOrEqual(8);
      // The headroom: only the full GCs before the first GC that sees the Buffers streaming (2–4
      // measured on a quiet machine, 5 once under a whole test run's load), and at most half of
      // V8's own count in the same test.
      expect(on.major).toBeLessThanOrEqual(6);
      expect(on.major * 2).toBeLessThanOrEqual(off.major);
      // Both moved the same bytes through scavenges.
      expect(on.minor).toBeGreaterThan(8);
    }, 120_000);
});

describe('headroom arithmetic and configuration', () => {
  it('the growing percent gives the live heap + the headroom, within 10–1000', () => {
    expect(growingPercentFor(20 * MB, 64 * MB)).toBe(320);
    expect(growingPercentFor(200 * MB, 64 * MB)).toBe(32);
    expect(growingPercentFor(2000 * MB, 64 * MB)).toBe(10);
    expect(growingPercentFor(1 * MB, 64 * MB)).toBe(1000);
  });
  it('GATE_HEAP_HEADROOM_MB: default 64, 0 turns it off, anything else is refused', () => {
    expect(headroomOf({})).toBe(64);
    expect(headroomOf({ GATE_HEAP_HEADROOM_MB: '0' })).toBe(0);
    expect(headroomOf({ GATE_HEAP_HEADROOM_MB: '96' })).toBe(96);
    expect(() => headroomOf({ GATE_HEAP_HEADROOM_MB: '-1' })).toThrow(/GATE_HEAP_HEADROOM_MB/);
    expect(() => headroomOf({ GATE_HEAP_HEADROOM_MB: 'lots' })).toThrow(/GATE_HEAP_HEADROOM_MB/);
    expect(() => headroomOf({ GATE_HEAP_HEADROOM_MB: '2048' })).toThrow(/GATE_HEAP_HEADROOM_MB/);
  });
});
