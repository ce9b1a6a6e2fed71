/**
 * The default fixture for integration and security tests: one real gateway over sockets (use
 * test/gateway/helpers.ts for the core's logic without sockets, test/e2e/browser-stack.ts when a
 * browser and the demo host page take part, test/redis/instances.ts for several gateways on one Redis).
 * `startStack()`: the Daytona emulator and the gateway (real @daytonaio/sdk port, real node:http
 * fetch, real sockets) on ephemeral loopback ports, with sample sandboxes, for integration,
 * security and browser end-to-end tests.
 *
 * Sandboxes created at start:
 *  - `open`:       label `preview-gate.users=*` (every signed-in user may preview it);
 *  - `restricted`: label `preview-gate.users=alice` (only user "alice");
 *  - `other`:      label `preview-gate.users=*` (a second sandbox, for cross-sandbox tests).
 * Each serves the emulator's inspector app on ports 3000 and 8080 (`ANY /api/echo` answers
 * what reached the app).
 *
 * Node cannot resolve `*.localhost`, so `requestPreview` connects to 127.0.0.1 and sends the
 * preview origin as the Host header. A browser can use `previewOrigin(...)` directly.
 *
 * @example
 * const stack = await startStack();
 * const { grant, cookieHeader } = await stack.launch('bob', stack.sandboxes.open, 3000);
 * const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { cookie: cookieHeader } });
 * await stack.close();
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../demo/emulator/index.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import type { GatewayConfig } from '../../broker/core/config.js';
import type { Logger } from '../../broker/core/contracts.js';
import type { Store } from '../../broker/core/store/store.js';
import { GATE_PATHS, type TokenGrant } from '../../protocol/index.js';

export interface StackOptions {
  /** Gateway config overrides (the user secret, domain and port are filled in). */
  gateway?: Partial<GatewayConfig>;
  emulator?: EmulatorOptions;
  /** Default: silent. Pass `createJsonLogger()` to see the request log, or a collector to assert on it. */
  logger?: Logger;
  /** Directory of built assets (default dist/). */
  assetsDir?: string;
  store?: Store;
  clock?: () => number;
}

export interface PreviewRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** A Node-side answer: status, headers (Set-Cookie kept as a list), body text. */
export interface StackResponse {
  status: number;
  headers: Headers;
  setCookies: string[];
  text: string;
  json<T = unknown>(): T;
}

export interface LaunchResult {
  /** The JSON answer of POST /__gate/session. */
  grant: TokenGrant & { sessionId: string; path: string };
  /** The raw Set-Cookie values of the exchange. */
  setCookies: string[];
  /** `name=value; name=value` of those cookies, ready to send back. */
  cookieHeader: string;
  sessionId: string;
  /** The launch URL (its fragment holds the one-time code). */
  launchUrl: string;
  /** The code itself (already used). */
  code: string;
}

export interface Stack {
  emulator: Emulator;
  gateway: RunningGateway;
  /** `http://127.0.0.1:{port}`: the gateway's own origin. */
  gatewayUrl: string;
  jwksUrl: string;
  /** The HS256 secret of user sessions (to forge or mint your own). */
  userSecret: string;
  sandboxes: { open: string; restricted: string; other: string };
  /** A user-session JWT for `userId` (as the host app would issue). */
  mintUserSession(userId: string, opts?: { ttlSeconds?: number; secret?: string }): Promise<string>;
  previewOrigin(sandboxId: string, port: number): string;
  /** `{port}-{id}.preview.localhost:{gatewayPort}`. */
  previewHost(sandboxId: string, port: number): string;
  /** A request to a preview origin through the gateway (Host header on 127.0.0.1). `path` may hold a query. */
  requestPreview(sandboxId: string, port: number, path: string, init?: PreviewRequestInit): Promise<StackResponse>;
  /** A request to the gateway's own origin. */
  requestGateway(path: string, init?: PreviewRequestInit): Promise<StackResponse>;
  /** The broker API call + code exchange a browser would do; returns the grant and cookies. */
  launch(userId: string, sandboxId: string, port: number, opts?: { path?: string; headers?: Record<string, string> }): Promise<LaunchResult>;
  close(): Promise<void>;
}

const silent: Logger = { info() {}, warn() {}, error() {} };

/** Sends one HTTP request to 127.0.0.1:port with an explicit Host header. */
export function rawRequest(port: number, host: string, path: string, init: PreviewRequestInit = {}): Promise<StackResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: { host, ...init.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        const setCookies: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const k = res.rawHeaders[i]!;
          const v = res.rawHeaders[i + 1]!;
          if (k.toLowerCase() === 'set-cookie') setCookies.push(v);
          headers.append(k, v);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers, setCookies, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** `name=value` pairs of Set-Cookie values (skipping deletions), joined for a Cookie header. */
export function cookieHeaderOf(setCookies: string[]): string {
  return setCookies
    .map((c) => c.split(';', 1)[0]!.trim())
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0, ...opts.emulator });
  const userSecret = randomBytes(32).toString('base64url');
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      config: { userJwtSecret: userSecret, previewDomain: 'preview.localhost', ...opts.gateway },
      daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' },
      port: 0,
      logger: opts.logger ?? silent,
      ...(opts.assetsDir ? { assetsDir: opts.assetsDir } : {}),
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const [open, restricted, other] = await Promise.all([
    emulator.createSandbox({ labels: { 'preview-gate.users': '*' } }),
    emulator.createSandbox({ labels: { 'preview-gate.users': 'alice' } }),
    emulator.createSandbox({ labels: { 'preview-gate.users': '*' } }),
  ]);

  const previewHost = (id: string, port: number) => `${port}-${id}.${gateway.app.config.previewDomain}:${gateway.port}`;
  const secretBytes = (s: string) => new TextEncoder().encode(s);

  const stack: Stack = {
    emulator,
    gateway,
    gatewayUrl: gateway.url,
    jwksUrl: `${gateway.url}/.well-known/jwks.json`,
    userSecret,
    sandboxes: { open: open.id, restricted: restricted.id, other: other.id },
    async mintUserSession(userId, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      let jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.ttlSeconds ?? 3600));
      const cfg = gateway.app.config;
      if (cfg.userIssuer) jwt = jwt.setIssuer(cfg.userIssuer);
      if (cfg.userAudience) jwt = jwt.setAudience(cfg.userAudience);
      return jwt.sign(secretBytes(o.secret ?? userSecret));
    },
    previewOrigin: (id, port) => gateway.app.previewOrigin({ sandboxId: id, port }),
    previewHost,
    requestPreview: (id, port, path, init) => rawRequest(gateway.port, previewHost(id, port), path, init),
    requestGateway: (path, init) => rawRequest(gateway.port, `127.0.0.1:${gateway.port}`, path, init),
    async launch(userId, sandboxId, port, o = {}) {
      const session = await stack.mintUserSession(userId);
      const created = await stack.requestGateway('/api/previews', {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sandboxId, port, ...(o.path ? { path: o.path } : {}) }),
      });
      if (created.status !== 201) throw new Error(`launch: POST /api/previews answered ${created.status} ${created.text}`);
      const { url, sessionId } = created.json<{ url: string; sessionId: string }>();
      const fragment = new URLSearchParams(new URL(url).hash.slice(1));
      const code = fragment.get('code')!;
      const exchanged = await stack.requestPreview(sandboxId, port, GATE_PATHS.session, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: stack.previewOrigin(sandboxId, port), ...o.headers },
        body: JSON.stringify({ code }),
      });
      if (exchanged.status !== 200) throw new Error(`launch: POST /__gate/session answered ${exchanged.status} ${exchanged.text}`);
      return {
        grant: exchanged.json(),
        setCookies: exchanged.setCookies,
        cookieHeader: cookieHeaderOf(exchanged.setCookies),
        sessionId,
        launchUrl: url,
        code,
      };
    },
    async close() {
      await gateway.close();
      await emulator.close();
    },
  };
  return stack;
}

/** Closes what a test file started, in order, skipping what never started (for `afterAll`). */
export async function closeAll(...parts: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  for (const p of parts) await p?.close();
}
