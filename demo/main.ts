/**
 * `npm run demo`: everything a person needs to try preview-gate, on loopback:
 *  - the Daytona emulator (EMULATOR_PORT, default 4000) with one sample sandbox running the
 *    inspector app on port 3000 and, on port 5173, a real Vite dev server of
 *    demo/sandbox-apps/vite-hmr (edit its files: the preview hot-reloads through the gateway),
 *    and, on port 4173, the PWA sample app (demo/sandbox-apps/pwa: its own Service Worker,
 *    served wrapped around the gateway's), and, on ports 3100 + 8100, the two-port sample
 *    (a frontend and its API, one launch for both), previewable by every signed-in user; its port 8000 is a "late" dev server that the host
 *    page starts on request (until then the gateway shows its waiting page); EMULATOR_BIND
 *    binds more ports (or these) to the person's own local servers (demo/emulator/bind.ts);
 *  - the gateway (GATE_PORT, default 8787) in demo mode (POST /api/demo/session issues user
 *    sessions to anyone: demo only), accepting API calls from the host page's origin;
 *  - the demo host page (DEMO_HOST_PORT, default 8788): an IDE-like page on another site
 *    (127.0.0.1) than the previews (*.preview.localhost) and the gateway API (localhost), with
 *    share links and the sample sandbox's controls (demo/controls.ts).
 * Every port is checked before anything starts; all conflicts are reported together, each with
 * its variable (demo/ports.ts), exit 2. Prints "Open this first" and NAME=VALUE lines once
 * ready. SIGINT/SIGTERM stop everything: the gateway drains (GATE_DRAIN_SECONDS, default 5
 * here), then the rest closes, exit 0 (broker/node/signals.ts).
 */
import { handleShutdownSignals } from '../broker/node/signals.js';
import { createStdoutLogger, flushLog } from '../broker/node/stdout-logger.js';
import { LOG_LEVELS, type LogLevel } from '../broker/core/logger.js';
import { BindError, parseEmulatorBind } from './emulator/bind.js';
import { answers, inUseMessage, portConflicts, readPort, type DemoPort } from './ports.js';

const DEMO_USER = 'demo-user';
const APP_PORT = 3000;
/** The sandbox port bound to the Vite dev server (Vite's usual port, as in a real sandbox). */
const VITE_PORT = 5173;
/** The sandbox port whose dev server starts only when the host page asks (the waiting page). */
const LATE_PORT = 8000;
/** The sandbox port bound to the PWA sample app (its own Service Worker: ARCHITECTURE.md flow 15). */
const PWA_PORT = 4173;
/**
 * The two-port sample app (demo/sandbox-apps/two-port: a frontend calling its API on another
 * port, ARCHITECTURE.md flow 16): 3000-frontend/8000-API style, on ports the other samples leave free.
 */
const TWO_PORT = { frontend: 3100, api: 8100 };
/** Share-link TTL bounds, given to the gateway and to the host page's form alike. */
const SHARE_TTL = { min: 60, max: 30 * 86_400 };

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

/** Everything the environment says, checked together: one message listing every problem. */
async function readSettings() {
  const problems: string[] = [];
  const drainRaw = process.env.GATE_DRAIN_SECONDS?.trim() || '5';
  if (!/^\d{1,4}$/.test(drainRaw)) problems.push(`  GATE_DRAIN_SECONDS must be a whole number of seconds, got "${drainRaw}"`);
  // The gateway's log: warnings and errors only by default, so the URLs stay on screen
  // (GATE_LOG_LEVEL=info shows every request, GATE_LOG=off nothing).
  const logMode = process.env.GATE_LOG?.trim().toLowerCase() || 'json';
  if (logMode !== 'json' && logMode !== 'off') problems.push(`  GATE_LOG must be json or off, got "${process.env.GATE_LOG}"`);
  const logLevel = (process.env.GATE_LOG_LEVEL?.trim().toLowerCase() || 'warn') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`  GATE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${process.env.GATE_LOG_LEVEL}"`);
  let bound: Record<number, { target: string }> = {};
  try {
    bound = parseEmulatorBind(process.env.EMULATOR_BIND);
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    problems.push(`  ${err.message}`);
  }
  const ports: DemoPort[] = [];
  for (const [variable, fallback, what] of [
    ['EMULATOR_PORT', 4000, 'the Daytona emulator'],
    ['GATE_PORT', 8787, 'the gateway'],
    ['DEMO_HOST_PORT', 8788, 'the demo host page'],
  ] as const) {
    const read = readPort(variable, fallback);
    if ('error' in read) problems.push(`  ${read.error}`);
    else ports.push({ variable, what, port: read.port, host: '127.0.0.1' });
  }
  if (ports.length === 3) problems.push(...(await portConflicts(ports)));
  if (problems.length) {
    console.error(`demo: cannot start:\n${problems.join('\n')}`);
    process.exit(2);
  }
  const [emulatorPort, gatePort, hostPort] = ports as [DemoPort, DemoPort, DemoPort];
  const logger = createStdoutLogger(logMode as 'json' | 'off', logLevel);
  return { drainMs: Number(drainRaw) * 1000, bound, emulatorPort, gatePort, hostPort, logger };
}

/** Runs `start`; an EADDRINUSE (a port taken since the check) becomes the variable's message. */
async function listenOn<T>(p: DemoPort, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.error(`demo: cannot start:\n  ${inUseMessage(p)}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { drainMs, bound, emulatorPort, gatePort, hostPort, logger } = await readSettings();
  // Loaded only once the settings are fine: a port conflict is reported in a moment, not after
  // the gateway, the emulator and Vite have been compiled and loaded.
  const [{ startGateway }, { demoControls }, { startEmulator }, { startHostPage }, { startViteHmrApp }, { startPwaApp }] = await Promise.all([
    import('../broker/node/server.js'),
    import('./controls.js'),
    import('./emulator/index.js'),
    import('./host/server.js'),
    import('./sandbox-apps/vite-hmr/dev-server.js'),
    import('./sandbox-apps/pwa/server.js'),
  ]);
  const { startTwoPortApp } = await import('./sandbox-apps/two-port/server.js');
  surviveSandboxAppCrashes();
  // The Vite dev server listens on an ephemeral loopback port; the sandbox's port 5173 leads to it.
  const [emulator, vite, pwa, twoPort] = await Promise.all([
    listenOn(emulatorPort, () => startEmulator({ port: emulatorPort.port, apiKey: process.env.EMULATOR_API_KEY || 'emulator-key' })),
    startViteHmrApp(),
    startPwaApp(),
    startTwoPortApp(TWO_PORT),
  ]);
  const { id: sandboxId } = await emulator.createSandbox({
    labels: { 'preview-gate.users': '*', 'preview-gate.sample': 'inspector' },
    ports: {
      [VITE_PORT]: { target: vite.url },
      [PWA_PORT]: { target: pwa.url },
      [TWO_PORT.frontend]: { target: twoPort.frontendUrl },
      [TWO_PORT.api]: { target: twoPort.apiUrl },
      ...bound,
    },
  });
  const latePort = bound[LATE_PORT] ? null : LATE_PORT;
  const yours = (p: number) => `Port ${p}: ${bound[p]!.target}`;
  const apps = [
    { port: APP_PORT, label: bound[APP_PORT] ? yours(APP_PORT) : 'Inspector' },
    { port: VITE_PORT, label: bound[VITE_PORT] ? yours(VITE_PORT) : 'Vite app (HMR)' },
    { port: PWA_PORT, label: bound[PWA_PORT] ? yours(PWA_PORT) : 'PWA (own Service Worker)' },
    ...(latePort === null ? [] : [{ port: latePort, label: 'Late dev server' }]),
    // One launch for both ports (the embed's `ports`); a port bound by EMULATOR_BIND is the person's own.
    ...(bound[TWO_PORT.frontend] || bound[TWO_PORT.api]
      ? []
      : [{ port: TWO_PORT.frontend, label: `Two ports (${TWO_PORT.frontend} + API ${TWO_PORT.api})`, ports: [TWO_PORT.frontend, TWO_PORT.api] }]),
    ...Object.keys(bound)
      .map(Number)
      .filter((p) => p !== APP_PORT && p !== VITE_PORT && p !== PWA_PORT && p !== LATE_PORT)
      .map((p) => ({ port: p, label: yours(p) })),
  ];

  // The host page listens first: the gateway must know its origin (CORS allow-list).
  const host = await listenOn(hostPort, () =>
    startHostPage({
      port: hostPort.port,
      gatewayUrl: '',
      sandboxId,
      previewPort: APP_PORT,
      apps,
      userId: DEMO_USER,
      shareTtl: SHARE_TTL,
      controls: demoControls(emulator, sandboxId, latePort),
    }),
  );
  const gateway = await listenOn(gatePort, () =>
    startGateway({
      config: {
        demo: true,
        allowedOrigins: [host.origin],
        previewDomain: process.env.GATE_PREVIEW_DOMAIN?.trim() || 'preview.localhost',
        shareTtlMinSeconds: SHARE_TTL.min,
        shareTtlMaxSeconds: SHARE_TTL.max,
        ...(process.env.GATE_ACCESS_TTL ? { accessTtlSeconds: Number(process.env.GATE_ACCESS_TTL) } : {}),
      },
      daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey },
      port: gatePort.port,
      logger,
    }),
  );
  // The gateway's own origin as pages see it: `localhost`, another site than 127.0.0.1 (the
  // host page) and than *.preview.localhost (the previews).
  const gatewayUrl = `http://localhost:${gateway.port}`;
  host.update({ gatewayUrl });

  const { token } = (await post(`${gateway.url}/api/demo/session`, { userId: DEMO_USER })) as { token: string };
  const preview = await post(`${gateway.url}/api/previews`, { sandboxId, port: APP_PORT, path: '/' }, token);
  const share = await post(`${gateway.url}/api/shares`, { sandboxId, port: APP_PORT, ttlSeconds: 86_400 }, token);
  const vitePreview = await post(`${gateway.url}/api/previews`, { sandboxId, port: VITE_PORT, path: '/' }, token);
  const silent = new Set(
    (await Promise.all(Object.entries(bound).map(async ([p, { target }]) => ((await answers(target)) ? null : p)))).filter((p) => p !== null),
  );
  const until = (ms: unknown) => `${new Date(Number(ms)).toISOString().slice(11, 19)} UTC`;
  const fresh = (p: number) => `${host.url}launch?port=${p}`;

  flushLog(); // log lines already queued come before the URLs, not in the middle of them
  console.log(`Open this first: ${host.url}  (the demo IDE: previews, share links, sandbox controls)`);
  console.log('');
  const lines: Array<[string, string] | string> = [
    ['DAYTONA_API_URL', emulator.apiUrl],
    ['DAYTONA_API_KEY', emulator.apiKey],
    ['GATEWAY_URL', gatewayUrl],
    ['JWKS_URL', `${gatewayUrl}/.well-known/jwks.json`],
    ['EMBED_SCRIPT_URL', `${gatewayUrl}/embed.js`],
    ['HOST_PAGE_URL', host.url],
    ['SANDBOX_ID', sandboxId],
    ['PREVIEW_ORIGIN', String(preview.origin ?? '')],
    `# One-time, valid until ${until(preview.expiresAt)} (60 s). Later, open FRESH_LAUNCH_URL: it mints a new one each time.`,
    ['PREVIEW_LAUNCH_URL', String(preview.url)],
    ['PREVIEW_LAUNCH_EXPIRES_AT', new Date(Number(preview.expiresAt)).toISOString()],
    ['FRESH_LAUNCH_URL', fresh(APP_PORT)],
    `# A share link valid until ${until(share.expiresAt)} tomorrow: works in any browser, revocable from the host page.`,
    ['PREVIEW_SHARE_URL', String(share.url)],
    `# The Vite app (port ${VITE_PORT}): edit demo/sandbox-apps/vite-hmr/message.js. One-time, until ${until(vitePreview.expiresAt)}; fresh: ${fresh(VITE_PORT)}`,
    ['VITE_PREVIEW_ORIGIN', String(vitePreview.origin ?? '')],
    ['VITE_PREVIEW_LAUNCH_URL', String(vitePreview.url)],
    ...Object.entries(bound).flatMap(
      ([p, { target }]): Array<[string, string] | string> => [
        `# EMULATOR_BIND: sandbox port ${p} → ${target}${silent.has(p) ? ' (nothing answers there yet: its preview waits until it does)' : ''}`,
        [`BOUND_LAUNCH_URL_${p}`, fresh(Number(p))],
      ],
    ),
    ['DEMO_USER', DEMO_USER],
  ];
  for (const line of lines) console.log(typeof line === 'string' ? line : `${line[0]}=${line[1]}`);

  // The gateway drains first (its requests in flight still need the emulator), then the rest.
  handleShutdownSignals(async () => {
    await gateway.drain({ timeoutMs: drainMs });
    await Promise.allSettled([host.close(), emulator.close(), vite.close(), pwa.close(), twoPort.close()]);
  }, drainMs);
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
