/**
 * TLS for the browser tests: a certificate generated for the run by `openssl` and a TLS
 * terminator on loopback that forwards the plain bytes to the gateway (HTTP and WebSocket
 * upgrades alike: it relays the TCP stream, so nothing about HTTP is re-implemented).
 * WebKitGTK drops every `Secure` cookie set over plain `http://*.localhost` (measured; Chromium
 * and Firefox keep them), so its cookie path needs HTTPS; the gateway itself speaks plain HTTP
 * and is told its public scheme and port (`publicScheme: 'https'`, `publicPort`), as behind a
 * production TLS proxy.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

export interface TestCertificate {
  key: string;
  cert: string;
}

/** A fresh self-signed EC certificate for localhost, *.preview.localhost and 127.0.0.1 (1 day). */
export async function generateTestCertificate(names: string[] = ['localhost', '*.preview.localhost']): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-cert-'));
  try {
    const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
    await promisify(execFile)(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=preview-gate test',
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { timeout: 30_000 },
    );
    return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface TlsFront {
  /** The loopback port browsers connect to (https://…:port). */
  port: number;
  /** Where the decrypted bytes go (set once the gateway listens). */
  forwardTo(port: number): void;
  close(): Promise<void>;
}

/** A TLS terminator on 127.0.0.1:0; connections before `forwardTo` are refused. */
export async function startTlsFront(cert: TestCertificate): Promise<TlsFront> {
  let target: number | undefined;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = tls.createServer({ key: cert.key, cert: cert.cert, ALPNProtocols: ['http/1.1'] }, (clear) => {
    track(clear);
    if (target === undefined) return void clear.destroy();
    const plain = net.connect(target, '127.0.0.1');
    track(plain);
    clear.pipe(plain).pipe(clear);
    const end = () => {
      clear.destroy();
      plain.destroy();
    };
    clear.once('error', end);
    plain.once('error', end);
    clear.once('close', end);
    plain.once('close', end);
  });
  server.on('tlsClientError', () => undefined); // a browser probing an untrusted certificate
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    forwardTo(port) {
      target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
