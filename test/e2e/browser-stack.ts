/**
 * For browser tests only (test/support/stack.ts is the socket-level fixture without a browser or
 * host page; this one adds demo mode, the host page and optional TLS or cookie-refusing fronts).
 * The stack the browser tests drive: the Daytona emulator with one inspector sandbox, the
 * gateway (demo mode, a movable clock) and the demo host page, all on ephemeral loopback
 * ports, plus helpers to mint sessions, launch links and share links.
 *
 * Sites, as the browser sees them (all different sites, so frames are cross-site):
 *   host page   http://127.0.0.1:{hostPort}/
 *   gateway     http://localhost:{gatePort}            (API, embed.js)
 *   previews    http://3000-{id}.preview.localhost:{gatePort}
 */
import type { Logger } from '../../broker/core/contracts.js';
import type { GatewayConfig } from '../../broker/core/config.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startHostPage, type HostPage } from '../../demo/host/server.js';
import { startCookieRefusingFront } from '../support/cookie-refusing-front.js';
import { movableClock } from '../support/clock.js';
import { generateTestCertificate, startTlsFront, type TlsFront } from '../support/tls-front.js';
import type { Page } from 'playwright-core';

/**
 * Opens a launch URL in a tab of its own as if the host page had opened it (its referrer): the
 * link is minted for the host page (`launchUrl`), so it signs in without asking. A link opened
 * from anywhere else would ask the person to confirm (login-CSRF defence,
 * broker/core/limits/launch-binding.ts; test/e2e/login-csrf.test.ts).
 */
export async function openLaunch(page: Page, url: string, hostUrl: string): Promise<void> {
  await page.goto(url, { referer: hostUrl });
}

export interface BrowserStack {
  emulator: Emulator;
  gateway: RunningGateway;
  host: HostPage;
  sandboxId: string;
  /** `http://localhost:{port}`: the gateway's own origin as pages use it. */
  gatewayUrl: string;
  previewOrigin: string;
  accessTtlMs: number;
  /** Moves the gateway's clock forward (tokens expire without waiting). */
  advance(ms: number): void;
  sessionToken(userId?: string): Promise<string>;
  /** A fresh launch URL (one-time code in the fragment). */
  launchUrl(path?: string, userId?: string): Promise<{ url: string; sessionId: string }>;
  api(method: string, path: string, body?: unknown, userId?: string): Promise<Response>;
  close(): Promise<void>;
}

export const APP_PORT = 3000;

/**
 * `https: true` puts a TLS terminator (test/support/tls-front.ts, a certificate generated for the
 * run) in front of the gateway: `gatewayUrl` and `previewOrigin` are then `https://…:{tlsPort}`
 * (the gateway is told `publicScheme: 'https'` and that port); the host page stays plain HTTP.
 * `refuseCookies: true` puts test/support/cookie-refusing-front.ts in front instead (plain HTTP,
 * no cookie ever reaches the browser or comes back: the cookie-less path in any browser).
 */
export async function startBrowserStack(
  opts: {
    accessTtlSeconds?: number;
    extraOrigins?: string[];
    https?: boolean;
    refuseCookies?: boolean;
    logger?: Logger;
    /** More gateway options (e.g. the pages' appUrl, productName). */
    gateway?: Partial<GatewayConfig>;
  } = {},
): Promise<BrowserStack> {
  const front: Pick<TlsFront, 'port' | 'forwardTo' | 'close'> | undefined = opts.https
    ? await startTlsFront(await generateTestCertificate())
    : opts.refuseCookies
      ? await startCookieRefusingFront()
      : undefined;
  const emulator = await startEmulator({ port: 0 });
  const { id: sandboxId } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
  const host = await startHostPage({ port: 0, gatewayUrl: '', sandboxId, previewPort: APP_PORT });
  const clock = movableClock();
  const accessTtlSeconds = opts.accessTtlSeconds ?? 30;
  const gateway = await startGateway({
    config: {
      demo: true,
      allowedOrigins: [host.origin, ...(opts.extraOrigins ?? [])],
      accessTtlSeconds,
      ...opts.gateway,
      ...(front ? { publicScheme: opts.https ? ('https' as const) : ('http' as const), publicPort: front.port } : {}),
    },
    daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey },
    port: 0,
    clock: clock.now,
    logger: opts.logger ?? { info() {}, warn() {}, error() {} },
  });
  front?.forwardTo(gateway.port);
  const [scheme, publicPort] = [opts.https ? 'https' : 'http', front ? front.port : gateway.port];
  const gatewayUrl = `${scheme}://localhost:${publicPort}`;
  host.update({ gatewayUrl });
  const previewOrigin = `${scheme}://${APP_PORT}-${sandboxId}.preview.localhost:${publicPort}`;

  const sessions = new Map<string, string>();
  async function sessionToken(userId = 'demo-user'): Promise<string> {
    const cached = sessions.get(userId);
    if (cached) return cached;
    const res = await fetch(`${gateway.url}/api/demo/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    const { token } = (await res.json()) as { token: string };
    sessions.set(userId, token);
    return token;
  }
  async function api(method: string, path: string, body?: unknown, userId?: string): Promise<Response> {
    return fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await sessionToken(userId)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }
  return {
    emulator,
    gateway,
    host,
    sandboxId,
    gatewayUrl,
    previewOrigin,
    accessTtlMs: accessTtlSeconds * 1000,
    advance: clock.advance,
    sessionToken,
    api,
    async launchUrl(path = '/', userId) {
      const res = await api('POST', '/api/previews', { sandboxId, port: APP_PORT, path, hostOrigin: host.origin }, userId);
      if (res.status !== 201) throw new Error(`POST /api/previews: ${res.status} ${await res.text()}`);
      return (await res.json()) as { url: string; sessionId: string };
    },
    async close() {
      await Promise.allSettled([host.close(), gateway.close(), front?.close()]);
      await emulator.close();
    },
  };
}
