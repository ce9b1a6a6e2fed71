/**
 * A real Vite dev server for the "Vite app (HMR)" sample sandbox port, started with Vite's own
 * `createServer` (what `npx vite` runs), on loopback. `npm run demo` binds sandbox port 5173 to
 * it and test/e2e/vite-hmr.test.ts drives it through the gateway in Chromium.
 *
 * The whole configuration is inline (`configFile: false`: nothing of the repository's own
 * vite.config.ts, which builds the gateway's browser bundles). What Vite needs behind the
 * gateway — and what it must NOT be given:
 *
 * - `server.ws` (Vite 8's name for the old `server.hmr.host/port/clientPort/protocol`) is left
 *   unset ON PURPOSE. The HMR client then opens its socket to the host and port of the URL it
 *   was itself loaded from (`/@vite/client` → the page's own origin,
 *   `ws://5173-{sandbox}.{previewDomain}:{gatewayPort}/?token=…`): through the gateway, which
 *   authenticates the handshake (the preview's cookie: partitioned in a cross-site iframe, Lax
 *   at top level; a WebSocket is never seen by a Service Worker) and relays it to Daytona, which
 *   relays it to this server. Setting `host`/`clientPort` to this server's own address would
 *   point the browser at a loopback port of the *viewer's* machine, which never works outside
 *   this demo and would bypass the gateway where it does.
 * - `server.port: 0` (ephemeral). Vite's client also knows a "direct" fallback target
 *   (`{server.host}:{server.port}`), tried only when the socket through the page's origin
 *   fails; with port 0 that target is `127.0.0.1:0`, so a broken gateway path fails visibly
 *   (the page says "disconnected") instead of silently going around the gateway.
 * - `server.allowedHosts`: nothing to add. Daytona's proxy (and the emulator) forwards with
 *   `Host: localhost:{sandboxPort}`, and Vite always allows `localhost` (HTTP requests and the
 *   HMR handshake alike). The public preview host arrives only in `X-Forwarded-Host`, which
 *   Vite does not check. (An app behind a proxy that keeps the public Host would list
 *   `.{previewDomain}` here.)
 * - Vite's anti-hijack token (`?token=` on the HMR URL, checked whenever the handshake has an
 *   `Origin`) passes untouched: the gateway removes only its own `__gate_*` parameters. The
 *   handshake's `Origin` is the preview origin, which the gateway requires (cross-site
 *   WebSocket hijacking) and Vite does not restrict beyond the token.
 * - `optimizeDeps.noDiscovery` + a private `cacheDir`: the app has no dependencies, so nothing
 *   is scanned or pre-bundled (starts in well under a second) and nothing is written into the
 *   repository's node_modules/.vite.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type LogLevel, type Plugin, type ViteDevServer } from 'vite';

/** This folder: the committed sample app (index.html, main.js, message.js). */
export const VITE_HMR_APP_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface ViteHmrAppOptions {
  /** The app folder to serve (and watch). Default: this folder. Tests pass a temporary copy. */
  root?: string;
  /** Listen port on 127.0.0.1. Default 0 (ephemeral). */
  port?: number;
  /** Extra plugins (tests record the HMR handshakes with one). */
  plugins?: Plugin[];
  /** Default 'warn'. */
  logLevel?: LogLevel;
}

export interface ViteHmrApp {
  server: ViteDevServer;
  port: number;
  /** `http://127.0.0.1:{port}`: bind a sandbox port to it (`{ target: url }`). */
  url: string;
  root: string;
  close(): Promise<void>;
}

/** Answers the sample page's `preview-gate:ping` over the HMR socket (a round trip proves it open). */
function pingPong(): Plugin {
  return {
    name: 'preview-gate-hmr-ping',
    configureServer(server) {
      server.ws.on('preview-gate:ping', (_data, client) => client.send('preview-gate:pong', {}));
    },
  };
}

/**
 * Runs `create` and takes off again the listeners it added for SIGTERM and for the end of stdin.
 * Vite's dev server adds them for a process Vite owns (its CLI): close, then `process.exit()`
 * (exit code 143 on SIGTERM, and an exit as soon as a piped stdin ends). Here the embedding
 * process (`npm run demo`, a test worker) owns its signals and closes the server itself.
 */
async function withoutViteExitHandlers<T>(create: () => Promise<T>): Promise<T> {
  const sigterm = new Set(process.rawListeners('SIGTERM'));
  const stdinEnd = new Set(process.stdin.rawListeners('end'));
  try {
    return await create();
  } finally {
    for (const l of process.rawListeners('SIGTERM')) if (!sigterm.has(l)) process.removeListener('SIGTERM', l as () => void);
    for (const l of process.stdin.rawListeners('end')) if (!stdinEnd.has(l)) process.stdin.removeListener('end', l as () => void);
  }
}

export async function startViteHmrApp(opts: ViteHmrAppOptions = {}): Promise<ViteHmrApp> {
  const root = opts.root ?? VITE_HMR_APP_DIR;
  const server = await withoutViteExitHandlers(() =>
    createServer({
      configFile: false,
      envDir: false, // no .env files: the sample reads no environment
      root,
      cacheDir: join(tmpdir(), 'preview-gate-vite-hmr-cache'),
      logLevel: opts.logLevel ?? 'warn',
      clearScreen: false,
      appType: 'spa',
      optimizeDeps: { noDiscovery: true, include: [] },
      plugins: [pingPong(), ...(opts.plugins ?? [])],
      server: {
        host: '127.0.0.1',
        port: opts.port ?? 0,
        strictPort: true,
        // ws / hmr host, port, clientPort: deliberately unset (see above).
      },
    }),
  );
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite-hmr: the dev server did not listen');
  return {
    server,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    root,
    close: () => server.close(),
  };
}
