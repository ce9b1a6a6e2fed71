/**
 * `npm run demo`: everything a person needs to try preview-gate, on loopback:
 *  - the Daytona emulator (EMULATOR_PORT, default 4000) with one sample sandbox running the
 *    inspector app on port 3000 and, on port 5173, a real Vite dev server of
 *    demo/sandbox-apps/vite-hmr (edit its files: the preview hot-reloads through the gateway),
 *    and, on port 4173, the PWA sample app (demo/sandbox-apps/pwa: its own Service Worker,
 *    served wrapped around the gateway's), previewable by every signed-in user;
 *  - the gateway (GATE_PORT, default 8787) in demo mode (POST /api/demo/session issues user
 *    sessions to anyone: demo only), accepting API calls from the host page's origin;
 *  - the demo host page (DEMO_HOST_PORT, default 8788): an IDE-like page on another site
 *    (127.0.0.1) than the previews (*.preview.localhost) and the gateway API (localhost).
 * Prints NAME=VALUE lines once ready. SIGINT/SIGTERM stop everything: the gateway drains
 * (GATE_DRAIN_SECONDS, default 5 here), then the rest closes, exit 0 (broker/node/signals.ts).
 */
import { startGateway } from '../broker/node/server.js';
import { startEmulator } from './emulator/index.js';
import { startHostPage } from './host/server.js';
import { startViteHmrApp } from './sandbox-apps/vite-hmr/dev-server.js';
import { startPwaApp } from './sandbox-apps/pwa/server.js';
import { handleShutdownSignals } from '../broker/node/signals.js';

const DEMO_USER = 'demo-user';
const APP_PORT = 3000;
/** The sandbox port bound to the Vite dev server (Vite's usual port, as in a real sandbox). */
const VITE_PORT = 5173;
/** The sandbox port bound to the PWA sample app (its own Service Worker: ARCHITECTURE.md flow 15). */
const PWA_PORT = 4173;
const APPS = [
  { port: APP_PORT, label: 'Inspector' },
  { port: VITE_PORT, label: 'Vite app (HMR)' },
  { port: PWA_PORT, label: 'PWA (own Service Worker)' },
];

function port(name: string, fallback: number): number {
  const raw = process.env[name] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return value;
}

async function post(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The demo runs the sandbox apps (the emulator's inspector, the Vite dev server) in the
 * gateway's process; in Daytona each runs alone in its sandbox, and its crash takes nothing
 * else down. So an uncaught error whose stack shows it came from a sandbox app (a frame in
 * demo/emulator/inspector/, demo/sandbox-apps/, or the `ws` and `vite` packages only those
 * apps use) and never went through the gateway (no `broker/` frame) is logged and the demo keeps
 * serving. Anything else may be a gateway bug: printed, and the demo exits with an error as it
 * would without this handler.
 */
const SANDBOX_APP_FRAME = /[/\\](demo[/\\]emulator[/\\]inspector|demo[/\\]sandbox-apps|node_modules[/\\](ws|vite))[/\\]/;
const GATEWAY_FRAME = /[/\\]broker[/\\]/;

function surviveSandboxAppCrashes(): void {
  const onError = (kind: string) => (err: unknown) => {
    const stack = err instanceof Error ? (err.stack ?? '') : '';
    if (!SANDBOX_APP_FRAME.test(stack) || GATEWAY_FRAME.test(stack)) {
      console.error(`demo: ${kind}:`, err);
      process.exit(1);
    }
    console.error(`demo: a sandbox app failed (${kind}: ${err instanceof Error ? err.message : String(err)}); the demo keeps serving`);
  };
  process.on('uncaughtException', onError('uncaught exception'));
  process.on('unhandledRejection', onError('unhandled rejection'));
}

async function main(): Promise<void> {
  // Ctrl-C on the demo should be quick: 5 s for requests in flight unless GATE_DRAIN_SECONDS says otherwise.
  const drainRaw = process.env.GATE_DRAIN_SECONDS?.trim() || '5';
  if (!/^\d{1,4}$/.test(drainRaw)) {
    console.error(`GATE_DRAIN_SECONDS must be a whole number of seconds, got "${drainRaw}"`);
    process.exit(2);
  }
  const drainMs = Number(drainRaw) * 1000;
  surviveSandboxAppCrashes();
  // The Vite dev server listens on an ephemeral loopback port; the sandbox's port 5173 leads to it.
  const [emulator, vite, pwa] = await Promise.all([
    startEmulator({ port: port('EMULATOR_PORT', 4000), apiKey: process.env.EMULATOR_API_KEY || 'emulator-key' }),
    startViteHmrApp(),
    startPwaApp(),
  ]);
  const { id: sandboxId } = await emulator.createSandbox({
    labels: { 'preview-gate.users': '*', 'preview-gate.sample': 'inspector' },
    ports: { [VITE_PORT]: { target: vite.url }, [PWA_PORT]: { target: pwa.url } },
  });

  // The host page listens first: the gateway must know its origin (CORS allow-list).
  const host = await startHostPage({ port: port('DEMO_HOST_PORT', 8788), gatewayUrl: '', sandboxId, previewPort: APP_PORT, apps: APPS, userId: DEMO_USER });
  const gateway = await startGateway({
    config: {
      demo: true,
      allowedOrigins: [host.origin],
      previewDomain: process.env.GATE_PREVIEW_DOMAIN?.trim() || 'preview.localhost',
      ...(process.env.GATE_ACCESS_TTL ? { accessTtlSeconds: Number(process.env.GATE_ACCESS_TTL) } : {}),
    },
    daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey },
    port: port('GATE_PORT', 8787),
  });
  // The gateway's own origin as pages see it: `localhost`, another site than 127.0.0.1 (the
  // host page) and than *.preview.localhost (the previews).
  const gatewayUrl = `http://localhost:${gateway.port}`;
  host.update({ gatewayUrl });

  const { token } = (await post(`${gateway.url}/api/demo/session`, { userId: DEMO_USER })) as { token: string };
  const preview = await post(`${gateway.url}/api/previews`, { sandboxId, port: APP_PORT, path: '/' }, token);
  const share = await post(`${gateway.url}/api/shares`, { sandboxId, port: APP_PORT, ttlSeconds: 86_400 }, token);
  const vitePreview = await post(`${gateway.url}/api/previews`, { sandboxId, port: VITE_PORT, path: '/' }, token);

  const lines = {
    DAYTONA_API_URL: emulator.apiUrl,
    DAYTONA_API_KEY: emulator.apiKey,
    GATEWAY_URL: gatewayUrl,
    JWKS_URL: `${gatewayUrl}/.well-known/jwks.json`,
    EMBED_SCRIPT_URL: `${gatewayUrl}/embed.js`,
    HOST_PAGE_URL: host.url,
    SANDBOX_ID: sandboxId,
    PREVIEW_ORIGIN: String(preview.origin ?? ''),
    // One-time and short-lived (60 s): the host page mints a fresh one per click.
    PREVIEW_LAUNCH_URL: String(preview.url),
    // A share link valid for a day: works in any browser, revocable from the host page.
    PREVIEW_SHARE_URL: String(share.url),
    // The Vite app (port 5173), one-time like PREVIEW_LAUNCH_URL; edit demo/sandbox-apps/vite-hmr/message.js.
    VITE_PREVIEW_ORIGIN: String(vitePreview.origin ?? ''),
    VITE_PREVIEW_LAUNCH_URL: String(vitePreview.url),
    DEMO_USER,
  };
  for (const [name, value] of Object.entries(lines)) console.log(`${name}=${value}`);

  // The gateway drains first (its requests in flight still need the emulator), then the rest.
  handleShutdownSignals(async () => {
    await gateway.drain({ timeoutMs: drainMs });
    await Promise.allSettled([host.close(), emulator.close(), vite.close(), pwa.close()]);
  }, drainMs);
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
