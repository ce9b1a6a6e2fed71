/**
 * nginx as users would configure it instead of preview-gate: a reverse proxy that injects one
 * fixed Daytona preview token (what Daytona's own proxy samples do, minus end-user auth).
 * Same upstream, same keep-alive and streaming settings as a careful operator would choose.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryOf, childPids, resetPeak } from './processes.js';

export function nginxBinary(): string | null {
  for (const p of [process.env.NGINX_PATH, '/usr/sbin/nginx', '/usr/bin/nginx']) if (p && existsSync(p)) return p;
  return null;
}

/**
 * `workerConnections` (default 1024) counts both sides of a proxied connection, so N idle
 * WebSockets need 2N; `worker_rlimit_nofile` follows it (capped by the hard `ulimit -n`, which an
 * unprivileged nginx cannot raise).
 */
export async function startNginx(opts: {
  port: number;
  upstreamPort: number;
  upstreamHost: string;
  token: string;
  workerConnections?: number;
  maxFiles?: number;
}) {
  const bin = nginxBinary();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'pg-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const conf = `
worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_rlimit_nofile ${opts.maxFiles ?? 4096};
events { worker_connections ${opts.workerConnections ?? 1024}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream daytona { server 127.0.0.1:${opts.upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${opts.port};
    client_max_body_size 0;
    location / {
      proxy_pass http://daytona;
      proxy_http_version 1.1;
      proxy_set_header Host ${opts.upstreamHost};
      proxy_set_header X-Daytona-Preview-Token ${opts.token};
      proxy_set_header X-Daytona-Skip-Preview-Warning true;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  // Wait until it accepts connections.
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(opts.port, '127.0.0.1', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    /** Starts a new peak-RSS window for the master and its workers. */
    resetPeak() {
      for (const pid of [child.pid!, ...childPids(child.pid!)]) resetPeak(pid);
    },
    memory() {
      const pids = [child.pid!, ...childPids(child.pid!)];
      return pids.map(memoryOf).reduce((a, b) => ({ rssMb: a.rssMb + b.rssMb, hwmMb: a.hwmMb + b.hwmMb }), { rssMb: 0, hwmMb: 0 });
    },
    /** nginx's own complaints so far (alert, crit, emerg lines of its error log). */
    problems(): string[] {
      try {
        return readFileSync(join(dir, 'logs', 'error.log'), 'utf8')
          .split('\n')
          .filter((l) => /\[(alert|crit|emerg)\]/.test(l));
      } catch {
        return [];
      }
    },
    async stop() {
      for (const line of this.problems().slice(-5)) console.error(`nginx: ${line}`);
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
