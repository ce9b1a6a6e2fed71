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
import { endTogether, startFront, type LoopbackFront } from './loopback-front.js';

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

/** `port`: the loopback port browsers connect to (https://…:port). */
export type TlsFront = LoopbackFront;

/** A TLS terminator on 127.0.0.1:0; connections before `forwardTo` are refused. */
export function startTlsFront(cert: TestCertificate): Promise<TlsFront> {
  return startFront(({ target, track }) => {
    const server = tls.createServer({ key: cert.key, cert: cert.cert, ALPNProtocols: ['http/1.1'] }, (clear) => {
      track(clear);
      const port = target();
      if (port === undefined) return void clear.destroy();
      const plain = net.connect(port, '127.0.0.1');
      track(plain);
      clear.pipe(plain).pipe(clear);
      endTogether(clear, plain);
    });
    server.on('tlsClientError', () => undefined); // a browser probing an untrusted certificate
    return server;
  });
}
