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
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  /** `redis://127.0.0.1:PORT`, or `rediss://:PASSWORD@127.0.0.1:PORT` with tls/password. */
  url: string;
  /** With `tls: true`: the PEM file of the CA that signed the server's certificate. */
  caFile?: string;
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

/** Every redis-server still running, killed when the test process exits even if a test hung. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
});

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

/** Resolves once `PING` is answered on the port (`+PONG`, or `-NOAUTH` behind a password). */
async function waitForPing(port: number, timeoutMs: number, ca?: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = ca ? tls.connect({ port, host: '127.0.0.1', ca, servername: undefined }) : net.connect(port, '127.0.0.1');
      let buf = '';
      s.setTimeout(1000, () => s.destroy());
      s.on(ca ? 'secureConnect' : 'connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          s.destroy();
          resolve(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'));
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

/** A throwaway CA and a server certificate for 127.0.0.1 (openssl), in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-subj',
    '/CN=preview-gate test CA',
    '-days',
    '2',
  ]);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

export interface StartRedisOptions {
  /** Keep data across restart() (append-only file). Default false. */
  persist?: boolean;
  /** TLS only (`rediss://`), certificate from a throwaway CA (`caFile`). Default false. */
  tls?: boolean;
  /** `requirepass`: the URL then carries it. */
  password?: string;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  if (!redisAvailable())
    throw new Error(`redis-server not found at ${REDIS_SERVER} (npm test installs it: scripts/ensure-redis.mjs; or apt-get install redis-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'pg-redis-'));
  const port = await freePort();
  const certs = opts.tls ? makeCertificates(dir) : null;
  let child: ChildProcess | null = null;

  const start = async () => {
    if (child) return;
    const listen = certs
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          certs.cert,
          '--tls-key-file',
          certs.key,
          '--tls-ca-cert-file',
          certs.ca,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)];
    const args = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'];
    args.push('--appendonly', opts.persist ? 'yes' : 'no');
    if (opts.password) args.push('--requirepass', opts.password);
    const c = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    running.add(c);
    c.once('exit', () => {
      running.delete(c);
      if (child === c) child = null;
    });
    await waitForPing(port, 15_000, certs ? readFileSync(certs.ca, 'utf8') : undefined);
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
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    url: `${certs ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    ...(certs ? { caFile: certs.ca } : {}),
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
