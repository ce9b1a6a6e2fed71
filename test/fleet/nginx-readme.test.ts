/**
 * The README's "Running several instances" nginx configuration, taken from README.md as it is
 * (only the two upstream ports and the listen port replaced), in front of two gateway
 * processes on one Redis: HTTP and WebSockets pass, and an instance stopped with SIGTERM under
 * load costs no request (the drain refuses new connections, nginx retries them on the other).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { redisAvailable } from '../support/redis.js';
import { fleetClient, mintUserSession, previewHost } from './support/client.js';
import { startFleet, type Fleet } from './support/fleet.js';
import { ROOT } from './support/paths.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const APP = 3000;
let fleet: Fleet;
let nginx: ChildProcess | undefined;
let dir: string;
let port: number;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** The README's block with this test's ports, inside a minimal nginx.conf of its own. */
function nginxConf(backends: number[]): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Running several instances[\s\S]*?```nginx\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no nginx block under "Running several instances"');
  const site = block
    .replace('server 127.0.0.1:8801; server 127.0.0.1:8802;', backends.map((p) => `server 127.0.0.1:${p};`).join(' '))
    .replace('listen 8080;', `listen 127.0.0.1:${port};`);
  if (!site.includes(`:${backends[1]};`) || !site.includes(`listen 127.0.0.1:${port}`)) throw new Error('README nginx block changed shape: update this test');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${join(dir, k)};`).join('\n');
  return `daemon off;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\nevents {}\nhttp {\naccess_log off;\n${temp}\n${site}\n}\n`;
}

beforeAll(async () => {
  if (!NGINX || !redisAvailable()) return;
  port = await freePort();
  fleet = await startFleet(2, { GATE_PUBLIC_PORT: String(port) });
  dir = mkdtempSync(join(tmpdir(), 'pg-nginx-'));
  chmodSync(dir, 0o755); // workers may run as another user
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(fleet.gateways.map((g) => g.port)));
  nginx = spawn(NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const until = Date.now() + 20_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > until) throw new Error(`nginx did not start: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGTERM'); // nginx: fast shutdown of master and workers
    await new Promise((r) => nginx!.once('exit', r));
  }
  await fleet?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!NGINX || !redisAvailable())("the README's nginx in front of two instances", () => {
  it('serves previews and WebSockets; an instance stopped with SIGTERM under load costs no request', async () => {
    const via = fleetClient(port);
    const session = await mintUserSession(fleet.userSecret, 'bob');
    const { grant } = await via.launch(session, fleet.sandboxId, APP);
    const auth = { headers: { 'x-daytona-preview-token': grant.accessToken } };

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { host: previewHost(fleet.sandboxId, APP, port), 'x-daytona-preview-token': grant.accessToken },
    });
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    ws.send('through nginx');
    expect(await echoed).toBe('through nginx');
    const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));

    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const loops = [0, 1, 2, 3].map(async () => {
      while (!stop) {
        try {
          const res = await via.preview(fleet.sandboxId, APP, '/slow?ms=100', auth);
          if (res.status === 200) ok++;
          else failures.push(`${res.status} ${res.text.slice(0, 200)}`);
        } catch (e) {
          failures.push(String(e));
        }
      }
    });
    await expect.poll(() => ok, { timeout: 20_000 }).toBeGreaterThanOrEqual(20);
    // Stop both in turn: whichever holds the WebSocket closes it with 1001 and the client sees it.
    const stopped = fleet.gateways[0]!;
    stopped.child.kill('SIGTERM');
    expect((await stopped.exited).code).toBe(0);
    const okAfterStop = ok;
    await expect.poll(() => ok, { timeout: 20_000 }).toBeGreaterThanOrEqual(okAfterStop + 20);
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    // The WebSocket was on the stopped instance (1001) or is still open on the other.
    const code = await Promise.race([wsClosed, new Promise<number>((r) => setTimeout(() => r(-1), 500))]);
    expect([1001, -1]).toContain(code);
    ws.terminate();
  }, 120_000);
});
