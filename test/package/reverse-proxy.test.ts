/**
 * docs/nginx-preview-gate.conf, run as documented in front of a real gateway and the Daytona
 * emulator: TLS with a wildcard certificate made by openssl for gate.example.com and
 * *.preview.example.com, the gateway on GATE_PUBLIC_SCHEME=https with the proxy's port as its
 * public port. Node clients connect to 127.0.0.1 with SNI and Host of the public names.
 * A launch, the code exchange, a page and a WebSocket echo pass through nginx; a WebSocket
 * without a credential is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startStack, cookieHeaderOf, type Stack } from '../support/stack.js';
import { generateTestCertificate } from '../support/tls-front.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const root = join(import.meta.dirname, '..', '..');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves every name to 127.0.0.1 (the certificate's names have no DNS here). */
const loopback = (_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
  opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);

let dir: string;
let nginx: ChildProcess | undefined;
let stack: Stack;
let port: number;
let ca: string;

function https(host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; setCookies: string[]; text: string }>((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method: init.method ?? 'GET',
        headers: { host: `${host}:${port}`, ...init.headers },
        ca,
        servername: host,
        lookup: loopback as never,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, setCookies: res.headers['set-cookie'] ?? [], text }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe.skipIf(!NGINX)('nginx in front of the gateway (docs/nginx-preview-gate.conf)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pg-nginx-'));
    const certificate = await generateTestCertificate(['gate.example.com', '*.preview.example.com']);
    writeFileSync(join(dir, 'key.pem'), certificate.key);
    writeFileSync(join(dir, 'cert.pem'), certificate.cert);
    ca = certificate.cert;
    port = await freePort();
    stack = await startStack({ gateway: { previewDomain: 'preview.example.com', publicScheme: 'https', publicPort: port } });
    const block = readFileSync(join(root, 'docs', 'nginx-preview-gate.conf'), 'utf8')
      .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
      .replace('server 127.0.0.1:8787;', `server 127.0.0.1:${stack.gateway.port};`)
      .replace('/etc/ssl/preview-gate/fullchain.pem', join(dir, 'cert.pem'))
      .replace('/etc/ssl/preview-gate/privkey.pem', join(dir, 'key.pem'));
    expect(block).toContain(`listen 127.0.0.1:${port} ssl;`); // the documented lines were found
    expect(block).toContain(`server 127.0.0.1:${stack.gateway.port};`);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};\n`).join('') +
        `${block}\n}\n`,
    );
    nginx = spawn(NGINX!, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await https('gate.example.com', '/healthz')).status === 200) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline)
        throw new Error(`nginx did not start: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a launch, the code exchange, a page and a WebSocket through TLS; a WebSocket without a credential is refused', async () => {
    const sbx = stack.sandboxes.open;
    const session = await stack.mintUserSession('ana');
    const created = await https('gate.example.com', '/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'x-request-id': 'through-nginx-1' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000 }),
    });
    expect(created.status).toBe(201);
    expect(created.headers['x-request-id']).toBe('through-nginx-1');
    const { url } = JSON.parse(created.text) as { url: string };
    const previewHost = `3000-${sbx}.preview.example.com`;
    expect(url.startsWith(`https://${previewHost}:${port}/__gate/launch#code=`)).toBe(true);

    const code = new URLSearchParams(new URL(url).hash.slice(1)).get('code')!;
    const origin = `https://${previewHost}:${port}`;
    const exchanged = await https(previewHost, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ code }),
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.setCookies.every((c) => /;\s*Secure/i.test(c))).toBe(true);
    const cookie = cookieHeaderOf(exchanged.setCookies);

    const page = await https(previewHost, '/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text.length).toBeGreaterThan(100);
    expect((await https(previewHost, '/')).status).toBe(401); // no credential

    const open = (headers: Record<string, string>) =>
      new Promise<{ opened: boolean; echo?: string; status?: number }>((resolve) => {
        const ws = new WebSocket(`wss://${previewHost}:${port}/ws`, {
          ca,
          servername: previewHost,
          headers: { origin, ...headers },
          lookup: loopback,
        } as unknown as WebSocket.ClientOptions);
        ws.once('open', () => {
          ws.send('hello through nginx');
          ws.once('message', (m) => {
            ws.close();
            resolve({ opened: true, echo: m.toString() });
          });
        });
        ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
        ws.once('error', () => resolve({ opened: false }));
      });
    const echoed = await open({ cookie });
    expect(echoed.opened).toBe(true);
    expect(echoed.echo).toContain('hello through nginx');
    const refused = await open({});
    expect(refused.opened).toBe(false);
    expect(refused.status).toBe(401);
  }, 60_000);
});
