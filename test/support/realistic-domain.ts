/**
 * A realistic preview domain for the browser tests: previews on
 * `https://{port}-{id}.preview.example.test:{tlsPort}`, the gateway on
 * `https://gate.example.test:{tlsPort}`, over TLS (a certificate generated for the run by
 * openssl, test/support/tls-front.ts), the host page on `http://127.0.0.1:{hostPort}` (another
 * site, so its iframe is cross-site). `*.localhost` hides what a real domain does: a browser
 * treats it as a secure context and dev servers (Next.js 15+) accept `*.localhost` origins by
 * default; here neither holds, as for most users.
 *
 * Chromium reaches the names through `--host-resolver-rules="MAP *.example.test 127.0.0.1"` and
 * trusts the run's certificate through `--ignore-certificate-errors-spki-list` (the certificate
 * counts as valid, so Service Workers register, unlike with `--ignore-certificate-errors`).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import type { Logger } from '../../broker/core/contracts.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startHostPage, type HostPage } from '../../demo/host/server.js';
import { CHROMIUM_FLAGS, chromiumPath } from './chromium.js';
import { generateTestCertificate, startTlsFront, type TestCertificate, type TlsFront } from './tls-front.js';

export const REALISTIC_PREVIEW_DOMAIN = 'preview.example.test';
export const REALISTIC_GATEWAY_HOST = 'gate.example.test';

export interface RealisticStack {
  emulator: Emulator;
  gateway: RunningGateway;
  host: HostPage;
  front: TlsFront;
  cert: TestCertificate;
  /** base64 SHA-256 of the certificate's public key (for `--ignore-certificate-errors-spki-list`). */
  spki: string;
  sandboxId: string;
  /** `https://gate.example.test:{tlsPort}`. */
  gatewayUrl: string;
  /** `https://{port}-{sandboxId}.preview.example.test:{tlsPort}`. */
  previewOrigin(port: number): string;
  accessTtlMs: number;
  advance(ms: number): void;
  /** Binds a sandbox port to a local server (a real dev server) through the emulator. */
  bind(port: number, url: string): Promise<void>;
  /** A launch URL for `port` minted for the host page (`hostOrigin`), as the host app would. */
  launchUrl(port: number, path?: string): Promise<string>;
  close(): Promise<void>;
}

/** The SPKI pin Chromium accepts for `--ignore-certificate-errors-spki-list`. */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function startRealisticStack(opts: { logger?: Logger; accessTtlSeconds?: number; devServerOrigin?: boolean } = {}): Promise<RealisticStack> {
  const cert = await generateTestCertificate([REALISTIC_GATEWAY_HOST, `*.${REALISTIC_PREVIEW_DOMAIN}`, 'localhost']);
  const front = await startTlsFront(cert);
  const emulator = await startEmulator({ port: 0 });
  const { id: sandboxId } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
  const host = await startHostPage({ port: 0, gatewayUrl: '', sandboxId, previewPort: 3000 });
  let offset = 0;
  const accessTtlSeconds = opts.accessTtlSeconds ?? 60;
  const gateway = await startGateway({
    config: {
      demo: true,
      previewDomain: REALISTIC_PREVIEW_DOMAIN,
      publicScheme: 'https',
      publicPort: front.port,
      allowedOrigins: [host.origin],
      accessTtlSeconds,
      ...(opts.devServerOrigin === undefined ? {} : { devServerOrigin: opts.devServerOrigin }),
    },
    daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey },
    port: 0,
    clock: () => Date.now() + offset,
    logger: opts.logger ?? { info() {}, warn() {}, error() {} },
  });
  front.forwardTo(gateway.port);
  const gatewayUrl = `https://${REALISTIC_GATEWAY_HOST}:${front.port}`;
  const bound: { port: number; label: string }[] = [{ port: 3000, label: 'port 3000' }];
  host.update({ gatewayUrl });
  let session: string | undefined;
  const api = async (method: string, path: string, body?: unknown): Promise<Response> => {
    if (!session) {
      const res = await fetch(`${gateway.url}/api/demo/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'demo-user' }),
      });
      session = ((await res.json()) as { token: string }).token;
    }
    return fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${session}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  };
  return {
    emulator,
    gateway,
    host,
    front,
    cert,
    spki: spkiHash(cert.cert),
    sandboxId,
    gatewayUrl,
    previewOrigin: (port) => `https://${port}-${sandboxId}.${REALISTIC_PREVIEW_DOMAIN}:${front.port}`,
    accessTtlMs: accessTtlSeconds * 1000,
    advance: (ms) => void (offset += ms),
    async bind(port, url) {
      await emulator.bindPort(sandboxId, port, { target: url });
      // The host page offers the bound ports as tabs (`?port=N` picks one).
      bound.push({ port, label: `port ${port}` });
      host.update({ apps: [...bound] });
    },
    async launchUrl(port, path = '/') {
      const res = await api('POST', '/api/previews', { sandboxId, port, path, hostOrigin: host.origin });
      if (res.status !== 201) throw new Error(`POST /api/previews: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { url: string }).url;
    },
    async close() {
      await Promise.allSettled([host.close(), gateway.close(), front.close()]);
      await emulator.close();
    },
  };
}

/** Chromium resolving `*.example.test` to loopback and trusting the run's certificate (third-party cookies blocked: Playwright's default). */
export function launchRealisticChromium(spki: string): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP *.example.test 127.0.0.1', `--ignore-certificate-errors-spki-list=${spki}`],
  });
}
