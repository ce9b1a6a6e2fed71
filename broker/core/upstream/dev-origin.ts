/**
 * Dev-server Origin presentation: zero configuration for the dev servers people preview most.
 *
 * Daytona's proxy hands every request to the app with `Host: localhost:{port}` (docs/daytona.md,
 * "What reaches the app"), while the browser's `Origin` is the preview origin
 * (`https://3000-{id}.preview.example.com`). Dev servers that guard their own dev endpoints with
 * an Origin/Host policy refuse that pair unless the user configures each sandbox's app:
 *  - Next.js 15+: `/_next/hmr`, `/_next/webpack-hmr` (HMR WebSocket) and `/__nextjs*` (dev
 *    overlay) accept only `localhost`, `*.localhost` and `allowedDevOrigins`: the HMR socket is
 *    refused, the page never hydrates;
 *  - Streamlit: `/_stcore/stream` (its only WebSocket) is refused (403) unless the Origin's host
 *    is the Host or in `server.corsAllowedOrigins`;
 *  - Jupyter Server: kernel channels, events and terminals WebSockets (403) and its REST API
 *    (`/api/contents`, `/api/sessions`, …, 404 "Blocking Cross Origin API request") unless the
 *    Origin's host is the Host or matches `allow_origin(_pat)`.
 *
 * The gateway has already authenticated the request and, for an upgrade, refused any Origin but
 * the preview origin (broker/core/upgrade.ts). On exactly those endpoints, and only when the
 * browser's Origin IS the preview origin, the request is presented as the app's own:
 * `Origin: http://localhost:{port}`, the origin matching the Host the app sees. A foreign page's
 * request keeps its own Origin (and an upgrade from it never gets this far), so the app's own
 * policy still refuses it; nothing the gateway checks is weakened.
 *
 * Never for endpoints whose CSRF defence compares the real Origin with the forwarded host: Next
 * Server Actions (a POST to a page path with `Next-Action`) compare `Origin` with
 * `X-Forwarded-Host`; they are not under these prefixes and keep the real Origin.
 *
 * Switch: `devServerOrigin` (GATE_DEV_SERVER_ORIGIN), on by default. Where it is off (or a
 * framework refuses anyway), `devServerRefusal` gives the one setting the user must add; the
 * gateway logs it once per framework (`dev_server_refused`).
 */

export type DevFramework = 'nextjs' | 'streamlit' | 'jupyter';

/** Dev endpoints by framework: upgrades (WebSockets) and plain requests. `(?:^|/)` allows a base path. */
const ENDPOINTS: { framework: DevFramework; upgrade?: RegExp; request?: RegExp }[] = [
  // Next.js: the HMR socket (webpack and Turbopack) and the dev overlay's endpoints.
  { framework: 'nextjs', upgrade: /(?:^|\/)_next\/(?:webpack-)?hmr$/, request: /(?:^|\/)__nextjs[\w-]*(?:\/|$)/ },
  // Streamlit: its one WebSocket.
  { framework: 'streamlit', upgrade: /(?:^|\/)_stcore\/stream$/ },
  // Jupyter Server: kernel channels, event bus, terminals; its REST API (JupyterLab's POST/PUT/
  // PATCH/DELETE carry an Origin), and JupyterLab's own settings/workspaces API.
  {
    framework: 'jupyter',
    upgrade: /(?:^|\/)(?:api\/kernels\/[^/]+\/channels|api\/events\/subscribe|terminals\/websocket\/[^/]+)$/,
    request: /(?:^|\/)(?:api\/(?:contents|sessions|kernels|kernelspecs|terminals|config|events|nbconvert|me|status)|lab\/api\/[\w-]+)(?:\/|$)/,
  },
];

/** The known dev server whose dev endpoint `pathname` is, for this kind of request; null when none. */
export function devEndpointOf(pathname: string, kind: 'upgrade' | 'request'): DevFramework | null {
  for (const e of ENDPOINTS) {
    const pattern = kind === 'upgrade' ? e.upgrade : e.request;
    if (pattern?.test(pathname)) return e.framework;
  }
  return null;
}

export interface DevOriginQuestion {
  /** The `devServerOrigin` switch. */
  enabled: boolean;
  kind: 'upgrade' | 'request';
  pathname: string;
  /** The browser's Origin header (null when absent). */
  origin: string | null;
  /** The preview origin the gateway served this request on (http/host.ts). */
  previewOrigin: string;
  /** The sandbox port: the app's own origin is `http://localhost:{port}`, as Daytona's Host says. */
  port: number;
}

/**
 * The Origin to present to the app instead of the browser's, or null to keep the browser's.
 * Only the verified preview origin is ever replaced, and only on a known dev endpoint.
 */
export function presentedOrigin(q: DevOriginQuestion): string | null {
  if (!q.enabled || q.origin === null || q.origin !== q.previewOrigin) return null;
  if (devEndpointOf(q.pathname, q.kind) === null) return null;
  return `http://localhost:${q.port}`;
}

/** The one setting a framework needs when the gateway cannot (or is told not to) present the Origin. */
export const DEV_SERVER_SETTINGS: Record<DevFramework, string> = {
  nextjs: "next.config: allowedDevOrigins: ['*.{previewDomain}']",
  streamlit: 'streamlit run … --server.corsAllowedOrigins={previewOrigin}',
  jupyter: "jupyter lab --ServerApp.allow_origin_pat='https?://[0-9]+-[^.]+\\.{previewDomain}(:[0-9]+)?'",
};

/**
 * The framework whose dev endpoint answered with its origin refusal, or null. Refusals look
 * like: Next answers the HMR upgrade with bare `Unauthorized` bytes (Daytona makes that a 502)
 * and refused overlay requests 403; Streamlit and Jupyter answer 403 to a WebSocket; Jupyter's
 * API answers 404 to a cross-origin API request.
 */
export function devServerRefusal(pathname: string, kind: 'upgrade' | 'request', status: number): DevFramework | null {
  const framework = devEndpointOf(pathname, kind);
  if (framework === null) return null;
  if (kind === 'upgrade') return status === 101 ? null : status === 403 || status === 401 || (framework === 'nextjs' && status === 502) ? framework : null;
  if (status === 403) return framework;
  return framework === 'jupyter' && status === 404 ? framework : null;
}

/** `settingFor('nextjs', 'preview.example.com', origin)`: the setting with this gateway's values filled in. */
export function settingFor(framework: DevFramework, previewDomain: string, previewOrigin: string): string {
  return DEV_SERVER_SETTINGS[framework]
    .replace('{previewOrigin}', previewOrigin)
    .replace('{previewDomain}', framework === 'jupyter' ? previewDomain.replace(/\./g, '\\.') : previewDomain);
}

/**
 * Logs the hint once per framework per process: the first refusal of each framework's dev
 * endpoint says which setting fixes it (or that GATE_DEV_SERVER_ORIGIN is off).
 */
export function createRefusalHinter(
  logger: { warn(event: string, fields?: Record<string, unknown>): void },
  config: { previewDomain: string; devServerOrigin: boolean },
): (
  pathname: string,
  kind: 'upgrade' | 'request',
  status: number,
  previewOrigin: string,
  log?: { warn(event: string, fields?: Record<string, unknown>): void },
) => void {
  const told = new Set<DevFramework>();
  return (pathname, kind, status, previewOrigin, log = logger) => {
    const framework = devServerRefusal(pathname, kind, status);
    if (framework === null || told.has(framework)) return;
    told.add(framework);
    log.warn('dev_server_refused', {
      framework,
      path: pathname,
      status,
      devServerOrigin: config.devServerOrigin,
      hint: config.devServerOrigin
        ? `the dev server refused this preview's origin; set ${settingFor(framework, config.previewDomain, previewOrigin)}`
        : `GATE_DEV_SERVER_ORIGIN is off: turn it on, or set ${settingFor(framework, config.previewDomain, previewOrigin)}`,
    });
  };
}

const hinters = new WeakMap<object, ReturnType<typeof createRefusalHinter>>();

/** The one hinter of a gateway (keyed by its resolved config, which lives as long as the gateway). */
export function refusalHinterOf(
  config: { previewDomain: string; devServerOrigin: boolean },
  logger: { warn(event: string, fields?: Record<string, unknown>): void },
): ReturnType<typeof createRefusalHinter> {
  let hinter = hinters.get(config);
  if (!hinter) hinters.set(config, (hinter = createRefusalHinter(logger, config)));
  return hinter;
}
