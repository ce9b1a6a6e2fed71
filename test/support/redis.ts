/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port with a temporary
 * directory, no persistence unless asked (`--save '' --appendonly no`). `restart()` stops it and
 * starts it again on the same port (outage tests); with `persist: true` the data survives the
 * restart (append-only file in the temp dir), without it Redis comes back empty.
 * `scripts/ensure-redis.mjs` (run by `pretest`) installs redis-server when missing.
 *
 * @example
 * const redis = await startRedis();
 * const url = redis.url; // redis://127.0.0.1:PORT
 * await redis.stop(); await redis.start();
 * await redis.close();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  url: string;
  port: number;
  /** Starts it again (after stop) on the same port. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets open but answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  readonly running: boolean;
}

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export function redisAvailable(): boolean {
  return existsSync(REDIS_SERVER);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolves once `PING` answers `+PONG` on the port. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let buf = '';
      s.setTimeout(1000, () => s.destroy());
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          s.destroy();
          resolve(buf.startsWith('+PONG'));
        }
      });
      s.on('error', () => resolve(false));
      s.on('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(opts: { persist?: boolean } = {}): Promise<TestRedis> {
  if (!redisAvailable()) throw new Error(`redis-server not found at ${REDIS_SERVER} (npm test installs it: scripts/ensure-redis.mjs; or apt-get install redis-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'pg-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;

  const start = async () => {
    if (child) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'];
    args.push('--appendonly', opts.persist ? 'yes' : 'no');
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.once('exit', () => {
      if (child === c) child = null;
    });
    await waitForPing(port, 15_000);
  };
  const stop = async () => {
    const c = child;
    if (!c) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      c.kill('SIGTERM');
    });
    child = null;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async close() {
      if (child) child.kill('SIGCONT'); // a paused process cannot act on SIGTERM
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    get running() {
      return child !== null;
    },
  };
}
