/**
 * Every environment variable of the Node entry, the CLI and the emulator: the one source of
 * docs/configuration.md (`npm run docs:config` renders it; test/package/config-reference.test.ts
 * fails when the page differs, or when a variable read in broker/node/config-env.ts, the CLI or
 * the emulator is missing here). Validation lives in config-env.ts and broker/core/config.ts.
 */

export interface EnvVar {
  name: string;
  /** As documented: a value, or a sentence when it depends. */
  default: string;
  meaning: string;
  group: 'Listening' | 'User sessions' | 'Public URLs' | 'Access' | 'Daytona' | 'Tokens and keys' | 'Operations' | 'Emulator';
}

export const ENV_VARS: readonly EnvVar[] = [
  { group: 'Listening', name: 'GATE_PORT', default: '8787', meaning: 'TCP port the gateway listens on (0 = any free port).' },
  {
    group: 'Listening',
    name: 'GATE_HOST',
    default: '127.0.0.1',
    meaning: 'Interface to listen on; `0.0.0.0` in a container or behind a proxy on another host.',
  },

  {
    group: 'User sessions',
    name: 'GATE_USER_JWT_SECRET',
    default: '(none)',
    meaning: "HS256 secret of the host app's user-session JWTs (at least 32 characters). One of this or GATE_USER_JWKS_URL is required (unless GATE_DEMO).",
  },
  {
    group: 'User sessions',
    name: 'GATE_USER_JWKS_URL',
    default: '(none)',
    meaning: "JWKS URL of the host app's identity provider (ES256, RS256, PS256, EdDSA). Unreachable: coded 503 `identity_provider_unavailable`.",
  },
  { group: 'User sessions', name: 'GATE_USER_ISSUER', default: '(not checked)', meaning: 'Required `iss` of user-session JWTs.' },
  { group: 'User sessions', name: 'GATE_USER_AUDIENCE', default: '(not checked)', meaning: 'Required `aud` of user-session JWTs.' },

  {
    group: 'Public URLs',
    name: 'GATE_PREVIEW_DOMAIN',
    default: 'preview.localhost',
    meaning: 'Preview origins are `{port}-{sandboxId}.{GATE_PREVIEW_DOMAIN}`: needs a wildcard DNS record and certificate.',
  },
  {
    group: 'Public URLs',
    name: 'GATE_PUBLIC_SCHEME',
    default: 'http',
    meaning: 'Scheme of the URLs the gateway hands out; `https` behind a TLS-terminating proxy.',
  },
  {
    group: 'Public URLs',
    name: 'GATE_PUBLIC_PORT',
    default: 'the listening port',
    meaning: "Port in the public URLs; set but empty = the scheme's default port (behind a proxy on 443).",
  },
  {
    group: 'Public URLs',
    name: 'GATE_APP_URL',
    default: '(none)',
    meaning: 'The host app\'s URL: "Back to the app" on a gateway page opened in a tab with no history (error, waiting and launch pages).',
  },
  {
    group: 'Public URLs',
    name: 'GATE_PRODUCT_NAME',
    default: 'Preview',
    meaning: 'Product name at the top of every gateway page (at most 60 characters).',
  },
  {
    group: 'Public URLs',
    name: 'GATE_PRODUCT_LOGO_URL',
    default: '(none)',
    meaning: "Logo beside the product name: an http(s) URL (its origin is added to the pages' CSP `img-src`) or a base64 `data:image/…` URL of at most 16 KiB.",
  },

  {
    group: 'Access',
    name: 'GATE_ALLOWED_ORIGINS',
    default: '(none; `*` with GATE_DEMO)',
    meaning:
      'Comma list of host-page origins allowed to call the broker API from a browser (the embed), e.g. `https://ide.example.com`. A missing origin is logged once with this fix.',
  },
  {
    group: 'Access',
    name: 'GATE_ALLOWED_PORTS',
    default: "every port but Daytona's reserved ones",
    meaning: 'Comma list of sandbox ports that may be previewed.',
  },
  { group: 'Access', name: 'GATE_PUBLIC_SANDBOXES', default: 'true', meaning: 'Let anyone reach a sandbox its owner made public in Daytona.' },
  {
    group: 'Access',
    name: 'GATE_POLICY_URL',
    default: '(none: the `preview-gate.users` label decides)',
    meaning:
      "The host app's authorisation endpoint, asked before each launch and share (contract in docs/interface.md). Fails closed with 503 `policy_unavailable`.",
  },
  {
    group: 'Access',
    name: 'GATE_POLICY_TOKEN',
    default: '(none)',
    meaning: 'Bearer token sent to GATE_POLICY_URL, so the endpoint knows the caller is the gateway.',
  },
  { group: 'Access', name: 'GATE_POLICY_CACHE_SECONDS', default: '10', meaning: 'How long a policy answer without `ttlSeconds` is reused (0..300).' },
  {
    group: 'Access',
    name: 'GATE_SERVICE_TOKEN',
    default: '(none)',
    meaning:
      "Service credential of the host app's backend (at least 32 characters) for `DELETE /api/previews?userId=` / `?sandboxId=` (end every session of a user / a sandbox).",
  },
  { group: 'Access', name: 'GATE_AUTO_START', default: 'false', meaning: 'Start a stopped sandbox when an authorised request reaches it.' },
  {
    group: 'Access',
    name: 'GATE_DEV_SERVER_ORIGIN',
    default: 'true',
    meaning:
      "Known dev servers' dev endpoints (Next.js HMR and overlay, Streamlit's `/_stcore/stream`, Jupyter's kernels and API) see the app's own `Origin: http://localhost:{port}` when the browser's Origin is the verified preview origin: zero configuration. `false`: each app needs its own setting (README, Frameworks).",
  },
  { group: 'Access', name: 'GATE_DEMO', default: 'false', meaning: 'Demo mode: `POST /api/demo/session` issues sessions to anyone. Never in production.' },

  {
    group: 'Daytona',
    name: 'DAYTONA_API_URL',
    default: "the SDK's default (https://app.daytona.io/api)",
    meaning: 'Daytona API base URL (the emulator prints its own).',
  },
  {
    group: 'Daytona',
    name: 'DAYTONA_API_KEY',
    default: '(required)',
    meaning: 'Daytona API key of the organisation owning the sandboxes. Never leaves the gateway.',
  },
  { group: 'Daytona', name: 'DAYTONA_TARGET', default: "the SDK's default", meaning: 'Daytona target (region).' },

  { group: 'Tokens and keys', name: 'GATE_ACCESS_TTL', default: '300', meaning: 'Access-token lifetime in seconds (30..3600).' },
  { group: 'Tokens and keys', name: 'GATE_REFRESH_TTL', default: '43200', meaning: 'Absolute lifetime of a preview session in seconds (60..2592000).' },
  {
    group: 'Tokens and keys',
    name: 'GATE_SIGNING_KEYS',
    default: '(a key generated at each start)',
    meaning: 'JWK set of ES256 private keys (`preview-gate keys`); the first signs, all verify. Set it to survive restarts and run several instances.',
  },

  {
    group: 'Operations',
    name: 'GATE_HEAP_HEADROOM_MB',
    default: '64',
    meaning:
      "Old-generation headroom V8 gets while large bodies stream (broker/node/v8-heap.ts): without it, V8 11.3 counts the transfer's short-lived 64 KB Buffers against the old generation's limit and runs a full GC every ~16 MB. `0`: V8's limits unchanged. Not applied when node was started with `--heap-growing-percent`.",
  },
  { group: 'Operations', name: 'GATE_LOG', default: 'json', meaning: '`json`: one JSON line per event on stdout; `off`: nothing.' },
  {
    group: 'Operations',
    name: 'GATE_LOG_LEVEL',
    default: 'info',
    meaning: '`debug`, `info`, `warn` or `error`: lines below it are dropped (request lines are info, 5xx warn).',
  },
  {
    group: 'Operations',
    name: 'GATE_METRICS_TOKEN',
    default: '(none: /metrics closed)',
    meaning: 'Bearer token (at least 16 characters) that opens `/metrics` (Prometheus text) to a scraper.',
  },
  {
    group: 'Operations',
    name: 'GATE_REDIS_URL',
    default: '(none: in-memory store)',
    meaning: '`redis://` or `rediss://` URL of the shared store for several instances; `preview-gate doctor` PINGs it.',
  },

  {
    group: 'Operations',
    name: 'GATE_REDIS_PREFIX',
    default: 'preview-gate:',
    meaning: 'Prefix of every Redis key and pub/sub channel, so several deployments can share one Redis (1–64 printable characters).',
  },
  {
    group: 'Operations',
    name: 'GATE_REDIS_COMMAND_TIMEOUT_MS',
    default: '1000',
    meaning: 'Longest wait for one Redis command (50–30000); nothing is queued while Redis is unreachable: those calls answer 503 `store_unavailable`.',
  },
  {
    group: 'Tokens and keys',
    name: 'GATE_KEYS_SECRET',
    default: '(none)',
    meaning:
      'With GATE_REDIS_URL and no GATE_SIGNING_KEYS: the same random string (32+ characters) on every instance; it seals the fleet signing keys kept in Redis.',
  },
  {
    group: 'Operations',
    name: 'GATE_DRAIN_SECONDS',
    default: '25',
    meaning: 'On SIGTERM/SIGINT, how long requests in flight may take to finish before the process exits 0 (0–3600).',
  },
  {
    group: 'Listening',
    name: 'GATE_HEADERS_TIMEOUT',
    default: '15',
    meaning: "Seconds a client has to send a request's whole head (slowloris); later: 408 and the connection closed (1–300).",
  },
  {
    group: 'Listening',
    name: 'GATE_BODY_IDLE_TIMEOUT',
    default: '30',
    meaning: 'Seconds a request body may stop moving before the request is cut with 408 (1–3600); a moving body is never cut.',
  },
  {
    group: 'Listening',
    name: 'GATE_KEEPALIVE_TIMEOUT',
    default: '5',
    meaning: "Seconds an idle keep-alive connection stays open (1–600); behind a load balancer, above the balancer's idle timeout.",
  },
  {
    group: 'Listening',
    name: 'GATE_TRUSTED_PROXIES',
    default: '(none)',
    meaning: 'Comma list of addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed for the client address (rate limits, logs).',
  },
  {
    group: 'Access',
    name: 'GATE_RATE_LIMITS',
    default: 'launch 60/240, exchange –/240, refresh 120/1200, wsTicket 240/600, share 30/120, upgrade 600/1200 (user/address per window)',
    meaning: '`off`, or a comma list of `action=user/address` overriding those defaults; over a limit: 429 `rate_limited` with Retry-After.',
  },
  { group: 'Access', name: 'GATE_RATE_WINDOW', default: '60', meaning: 'Window of every rate limit, seconds (1–3600).' },
  {
    group: 'Access',
    name: 'GATE_MAX_SESSIONS_PER_USER',
    default: '200',
    meaning: 'Live preview sessions per user; beyond it a launch answers 409 `too_many_sessions`.',
  },
  { group: 'Access', name: 'GATE_MAX_SHARES_PER_USER', default: '100', meaning: 'Live share links per user; beyond it 409 `too_many_shares`.' },
  {
    group: 'Daytona',
    name: 'GATE_ACTIVITY_UPDATES',
    default: 'requests',
    meaning: "Which traffic refreshes the sandbox's activity (auto-stop timer): `requests` (not WebSockets/event streams), `all`, or `never`.",
  },
  {
    group: 'Daytona',
    name: 'GATE_UPSTREAM_REPLAY_LIMIT',
    default: '1048576',
    meaning: 'Largest request body (bytes) kept so a request can be repeated once when Daytona refuses a link.',
  },
  {
    group: 'Daytona',
    name: 'GATE_LINK_CACHE_TTL',
    default: '600',
    meaning: 'Seconds an upstream link is cached (a signed link is renewed before its own expiry anyway).',
  },
  { group: 'Daytona', name: 'GATE_UPSTREAM_CONNECT_TIMEOUT_MS', default: '10000', meaning: "Time allowed to connect to Daytona's preview proxy." },
  { group: 'Daytona', name: 'GATE_UPSTREAM_RESPONSE_TIMEOUT_MS', default: '300000', meaning: "Time from a request's end to Daytona's response headers." },
  { group: 'Daytona', name: 'GATE_UPGRADE_TIMEOUT_MS', default: '15000', meaning: 'Time allowed for Daytona to answer a WebSocket upgrade.' },

  { group: 'Emulator', name: 'EMULATOR_PORT', default: '4000', meaning: '`preview-gate emulator` / `npm run emulator`: port of the Daytona emulator.' },
  { group: 'Emulator', name: 'EMULATOR_API_KEY', default: 'emulator-key', meaning: 'The API key the emulator accepts.' },
  {
    group: 'Emulator',
    name: 'EMULATOR_BIND',
    default: '(none)',
    meaning:
      '`npm run emulator` / `npm run demo`: ports of the sample sandbox bound to servers on this machine, a comma list of `{sandboxPort}={http URL}` (e.g. `3000=http://127.0.0.1:4123,8501=http://127.0.0.1:4124`): HTTP and WebSocket are forwarded to it with `Host: localhost:{sandboxPort}`, a URL path is a prefix. A malformed entry stops the command with a message naming it.',
  },
];

/** docs/configuration.md. */
export function renderConfigurationReference(vars: readonly EnvVar[] = ENV_VARS): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from broker/node/env-vars.ts by `npm run docs:config`; test/package/config-reference.test.ts fails when it drifts. -->',
    '',
    'Every environment variable of `preview-gate gateway` (and `npm run gateway`), checked at start:',
    'a malformed value stops the gateway with a message naming the variable. `preview-gate doctor`',
    'checks a configuration without starting it. The same options exist for `createGateway` /',
    '`startGateway` callers in `GatewayConfig` (broker/core/config.ts).',
    '',
  ];
  const groups = [...new Set(vars.map((v) => v.group))];
  for (const g of groups) {
    lines.push(`## ${g}`, '', '| Variable | Default | Meaning |', '|---|---|---|');
    for (const v of vars.filter((x) => x.group === g)) lines.push(`| \`${v.name}\` | ${v.default} | ${v.meaning.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  return lines.join('\n');
}
