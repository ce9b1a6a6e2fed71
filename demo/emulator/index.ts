/**
 * The Daytona emulator: a local stand-in for Daytona's API and preview proxy, faithful to
 * docs/daytona.md, so every gateway test runs against the REAL @daytonaio/sdk.
 *
 * @example
 * ```ts
 * import { Daytona } from '@daytonaio/sdk';
 * import { startEmulator } from '../../demo/emulator/index.js';
 *
 * const emu = await startEmulator({ port: 0 });
 * // … and `await daytona[Symbol.asyncDispose]()` before emu.close(), so the process can exit.
 * const daytona = new Daytona({ apiKey: emu.apiKey, apiUrl: emu.apiUrl, target: 'us' }); // default (Socket.IO) mode
 * const sandbox = await daytona.create({ labels: { 'preview-gate.users': '*' } });
 * const { url, token } = await sandbox.getPreviewLink(3000);
 * // Node cannot resolve *.localhost: connect to 127.0.0.1:emu.port and send the preview host as Host.
 * await emu.close();
 * ```
 */
import { Agent } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { PortBinding } from './ports.js';
import { SandboxStore } from './sandboxes.js';
import { createEmulatorServer, type ApiFault } from './server.js';
import { CookieSealer } from './tokens.js';
import { attachEvents } from './events.js';
import { sandboxJson } from './sandbox-json.js';
import { TokenCheckCache } from './token-cache.js';

export type { PortBinding } from './ports.js';
export type { ApiFault } from './server.js';
export { patternChunk, patternSha256 } from './inspector/pattern.js';

export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks an ephemeral one. */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** The one API key the API and the proxy accept. Default `'emulator-key'`. */
  apiKey?: string;
  /** Preview hosts are `{port}-{id}.{proxyDomain}:{port}`. Default `'proxy.localhost'`. */
  proxyDomain?: string;
  /** Serve Daytona's warning interstitial to browser user agents. Default `true`. */
  warningPage?: boolean;
  /** How long create/start stay in `starting` when driven through the API. Default 150 ms. */
  startingMs?: number;
  /**
   * The answer to an unknown, expired or revoked signed token: `'redirect'` (default), the 307
   * to the identity provider of Daytona's v0.190 source; `'unauthorized'`, the 401
   * `{"message":"unauthorized: authentication failed: Invalid or expired token","code":"UNAUTHORIZED"}`
   * production was seen answering in 2026.
   */
  signedTokenRejection?: 'redirect' | 'unauthorized';
  /**
   * How often the proxy refreshes a sandbox's last activity while a connection (WebSocket, SSE,
   * long download) stays open. Default 50 000 ms, Daytona's; tests shorten it.
   */
  activityIntervalMs?: number;
  /**
   * Daytona's caching of token checks (docs/daytona.md, "Caching"): a valid token keeps working
   * up to 2 minutes after it was rotated, an invalid one is remembered 5 s. Default false (strict:
   * every request checks the current token), so tests see both behaviours.
   */
  tokenCache?: boolean;
}

export interface EmulatorStats {
  /** Every request to `/api/*`, faulted ones included. */
  apiRequests: number;
  /** `GET /api/sandbox/{id}/ports/{port}/preview-url` requests (what `getPreviewLink` sends). */
  previewUrlRequests: number;
  /** `GET /api/sandbox/{id}/ports/{port}/signed-preview-url` requests (what `getSignedPreviewUrl` sends). */
  signedPreviewUrlRequests: number;
  /** Every request (HTTP or upgrade) that arrived on a preview host. */
  proxyRequests: number;
  /** Preview-host requests the proxy answered itself with ≥ 300 (307, 400, 403, 404, 502), i.e. not forwarded. */
  rejectedProxyRequests: number;
}

export interface CreateSandboxOptions {
  labels?: Record<string, string>;
  public?: boolean;
  /** Overrides of the default bindings {3000: 'inspector', 8080: 'inspector'}; `null` unbinds. */
  ports?: Record<number, PortBinding>;
}

export interface Emulator {
  port: number;
  /** `http://{host}:{port}/api`, to pass as the SDK's `apiUrl`. */
  apiUrl: string;
  apiKey: string;
  proxyDomain: string;
  /** Creates a sandbox and resolves once it is `started` (no SDK, no starting delay). */
  createSandbox(opts?: CreateSandboxOptions): Promise<{ id: string }>;
  /** `http://{port}-{id}.{proxyDomain}:{emulatorPort}` */
  previewUrl(sandboxId: string, port: number): string;
  /** The sandbox's current standard preview token (rotates when it starts from stopped). */
  standardToken(sandboxId: string): string;
  /** Rebinds a sandbox port now (if started) and for later starts. */
  bindPort(sandboxId: string, port: number, binding: PortBinding): Promise<void>;
  /** Same effects as `POST /api/sandbox/{id}/stop`, resolved once `stopped`. */
  stopSandbox(sandboxId: string): Promise<void>;
  /** Same effects as `POST /api/sandbox/{id}/start` (new token from stopped/archived, same from paused), resolved once `started`. */
  startSandbox(sandboxId: string): Promise<void>;
  /** Same effects as `POST /api/sandbox/{id}/pause` (auto-pause), resolved once `paused`. */
  pauseSandbox(sandboxId: string): Promise<void>;
  /** Stops (if needed) and archives: the sandbox loses its runner. Resolved once `archived`. */
  archiveSandbox(sandboxId: string): Promise<void>;
  /** For `ms`, the proxy answers 404 "not found: sandbox container not found" for this sandbox (a runner move). */
  moveRunner(sandboxId: string, ms: number): void;
  /** Last-activity refreshes the proxy made for a sandbox so far (its activity clock). */
  activityUpdates(sandboxId: string): number;
  /** Live Socket.IO connections (SDK clients in their default mode). */
  readonly eventConnections: number;
  /** Expires every signed preview token of a sandbox (as `expireSignedPreviewUrl` does one); returns how many. */
  expireSignedTokens(sandboxId: string): number;
  /** The signed tokens of a sandbox still valid now. */
  signedTokens(sandboxId: string): string[];
  /** Makes `/api` answer `{status}` or drop connections (`'refuse'`); the proxy keeps working. `null` heals. */
  setApiFault(fault: ApiFault): void;
  /** Live counters (read them any time; reset by assigning 0). */
  stats: EmulatorStats;
  close(): Promise<void>;
}

/** Starts the emulator (API at `/api` and the preview proxy on one port). */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const apiKey = opts.apiKey ?? 'emulator-key';
  const proxyDomain = opts.proxyDomain ?? 'proxy.localhost';
  const store = new SandboxStore(opts.startingMs ?? 150);
  const stats: EmulatorStats = { apiRequests: 0, previewUrlRequests: 0, signedPreviewUrlRequests: 0, proxyRequests: 0, rejectedProxyRequests: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  let fault: ApiFault = null;
  let port = 0;
  const origin = (): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const previewUrl = (p: number, idOrToken: string): string => `http://${p}-${idOrToken}.${proxyDomain}:${port}`;

  const server = createEmulatorServer({
    stats,
    fault: () => fault,
    api: {
      store,
      apiKey,
      previewUrl,
      toolboxProxyUrl: () => `${origin()}/toolbox`,
      countPreviewUrlRequest: () => void stats.previewUrlRequests++,
      countSignedPreviewUrlRequest: () => void stats.signedPreviewUrlRequests++,
    },
    proxy: {
      store,
      apiKey,
      sealer: new CookieSealer(),
      warningPage: opts.warningPage ?? true,
      signedTokenRejection: opts.signedTokenRejection ?? 'redirect',
      get idpOrigin() {
        return origin();
      },
      agent,
      stats,
      activityIntervalMs: opts.activityIntervalMs ?? 50_000,
      tokenCache: opts.tokenCache ? new TokenCheckCache() : null,
    },
  });
  const toolboxUrl = () => `${origin()}/toolbox`;
  const events = attachEvents(server, apiKey);
  store.onStateChange = (record, oldState) => events.stateChanged(record, oldState, sandboxJson(record, toolboxUrl()));
  store.onCreated = (record) => events.created(sandboxJson(record, toolboxUrl()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // Upgraded (WebSocket) sockets leave the HTTP server's bookkeeping: track every socket to end them on close.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const sandbox = (id: string) => {
    const record = store.getById(id);
    if (!record) throw new Error(`emulator: no sandbox ${id}`);
    return record;
  };

  return {
    port,
    apiUrl: `${origin()}/api`,
    apiKey,
    proxyDomain,
    async createSandbox(o = {}) {
      const { record, started } = store.create({ labels: o.labels, public: o.public, ports: o.ports }, 0);
      await started;
      return { id: record.id };
    },
    previewUrl: (id, p) => previewUrl(p, id),
    standardToken: (id) => sandbox(id).token,
    bindPort: async (id, p, binding) => store.bindPort(sandbox(id), p, binding),
    stopSandbox: async (id) => store.stop(sandbox(id)),
    startSandbox: async (id) => store.start(sandbox(id), 0),
    pauseSandbox: async (id) => store.pause(sandbox(id)),
    archiveSandbox: async (id) => {
      await store.stop(sandbox(id));
      await store.archive(sandbox(id));
    },
    activityUpdates: (id) => sandbox(id).activityUpdates,
    moveRunner: (id, ms) => void (sandbox(id).movingUntil = Date.now() + ms),
    get eventConnections() {
      return events.connections;
    },
    expireSignedTokens: (id) => store.expireSignedOf(id),
    signedTokens: (id) => store.signedOf(id),
    setApiFault(f) {
      fault = f;
    },
    stats,
    async close() {
      await events.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      agent.destroy();
      await store.close();
    },
  };
}
