/**
 * `preview-gate doctor`: checks a deployment's configuration from the same environment the
 * gateway reads (broker/node/config-env.ts) and prints one line per check: `ok`, `warn` (works,
 * but probably not what you want) or `FAIL` with what to fix. Exit status 1 when a check fails.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { lookup } from 'node:dns/promises';
import { configFromEnv, type EnvConfig } from '../node/config-env.js';
import { resolveConfig, type ResolvedConfig } from '../core/config.js';

export type CheckStatus = 'ok' | 'warn' | 'FAIL';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
}

/** The Daytona SDK's default API (used when DAYTONA_API_URL is unset). */
const DEFAULT_DAYTONA_API = 'https://app.daytona.io/api';
const TIMEOUT_MS = 5000;

async function timedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
}

function why(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}

async function checkDaytona(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const apiUrl = (env.DAYTONA_API_URL?.trim() || DEFAULT_DAYTONA_API).replace(/\/+$/, '');
  const key = env.DAYTONA_API_KEY?.trim();
  if (!key)
    return { name: 'daytona', status: 'FAIL', detail: 'DAYTONA_API_KEY is not set: set it to an API key of your Daytona organisation (Dashboard → Keys)' };
  // An id that cannot exist: 404 means "API reached, key accepted"; 401/403 means the key is refused.
  try {
    const res = await timedFetch(`${apiUrl}/sandbox/preview-gate-doctor-probe`, { headers: { authorization: `Bearer ${key}` } });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      return { name: 'daytona', status: 'FAIL', detail: `${apiUrl} refused DAYTONA_API_KEY (HTTP ${res.status}): check the key and its organisation` };
    }
    if (res.status === 404 || res.ok) return { name: 'daytona', status: 'ok', detail: `${apiUrl} reachable, DAYTONA_API_KEY accepted` };
    return { name: 'daytona', status: 'FAIL', detail: `${apiUrl} answered HTTP ${res.status}: is DAYTONA_API_URL the API's base URL (ending in /api)?` };
  } catch (err) {
    return { name: 'daytona', status: 'FAIL', detail: `${apiUrl} unreachable (${why(err)}): check DAYTONA_API_URL and the network` };
  }
}

async function checkUserSessions(cfg: ResolvedConfig): Promise<CheckResult> {
  if (cfg.userJwtSecret)
    return { name: 'user-sessions', status: 'ok', detail: `HS256 secret set (GATE_USER_JWT_SECRET, ${cfg.userJwtSecret.length} characters)` };
  if (!cfg.userJwksUrl)
    return {
      name: 'user-sessions',
      status: 'warn',
      detail: 'demo mode: sessions come from POST /api/demo/session (anyone can get one); set GATE_USER_JWT_SECRET or GATE_USER_JWKS_URL for real users',
    };
  try {
    const res = await timedFetch(cfg.userJwksUrl, { headers: { accept: 'application/json' } });
    if (!res.ok)
      return {
        name: 'user-sessions',
        status: 'FAIL',
        detail: `identity provider's JWKS ${cfg.userJwksUrl} answered HTTP ${res.status}: check GATE_USER_JWKS_URL`,
      };
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys) || body.keys.length === 0) {
      return {
        name: 'user-sessions',
        status: 'FAIL',
        detail: `${cfg.userJwksUrl} is not a JWK set ({"keys":[...]}): GATE_USER_JWKS_URL must be the JWKS URL (often /.well-known/jwks.json)`,
      };
    }
    return { name: 'user-sessions', status: 'ok', detail: `identity provider's JWKS reachable (${body.keys.length} key(s))` };
  } catch (err) {
    return {
      name: 'user-sessions',
      status: 'FAIL',
      detail: `identity provider's JWKS ${cfg.userJwksUrl} unreachable or not JSON (${why(err)}): check GATE_USER_JWKS_URL`,
    };
  }
}

/** RESP: `+PONG` after an optional AUTH, over TCP or TLS; no client library needed. */
export async function pingRedis(url: string): Promise<string> {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('the URL must start with redis:// or rediss://');
  const port = Number(u.port || 6379);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const socket: Socket = u.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }) : tcpConnect({ host, port });
  const cmd = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    let buf = '';
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      if (pass) socket.write(user ? cmd('AUTH', user, pass) : cmd('AUTH', pass));
      socket.write(cmd('PING'));
    });
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      const lines = buf.split('\r\n').filter(Boolean);
      const err = lines.find((l) => l.startsWith('-'));
      if (err || lines.includes('+PONG')) {
        clearTimeout(timer);
        socket.end();
        if (err) reject(new Error(err.slice(1)));
        else resolve('PONG');
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function checkRedis(env: NodeJS.ProcessEnv): Promise<CheckResult | null> {
  const url = env.GATE_REDIS_URL?.trim();
  if (!url) return null;
  const shown = url.replace(/\/\/[^@/]*@/, '//***@');
  try {
    await pingRedis(url);
    return { name: 'redis', status: 'ok', detail: `${shown} answers PING` };
  } catch (err) {
    return { name: 'redis', status: 'FAIL', detail: `${shown}: ${why(err)}: check GATE_REDIS_URL (host, port, password, rediss:// for TLS)` };
  }
}

async function checkPreviewDomain(cfg: ResolvedConfig): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const d = cfg.previewDomain;
  if (d.endsWith('.localhost') || d === 'localhost') {
    out.push({
      name: 'preview-domain',
      status: cfg.publicScheme === 'https' ? 'warn' : 'ok',
      detail:
        cfg.publicScheme === 'https'
          ? `${d} is a local name but GATE_PUBLIC_SCHEME=https: for a deployment set GATE_PREVIEW_DOMAIN to a domain with a wildcard DNS record and certificate (*.${d})`
          : `${d}: local development (browsers resolve *.localhost to this machine)`,
    });
    return out;
  }
  const probe = `3000-doctor-probe.${d}`;
  try {
    await lookup(probe);
    out.push({ name: 'preview-domain', status: 'ok', detail: `*.${d} resolves (${probe})` });
  } catch {
    out.push({
      name: 'preview-domain',
      status: 'FAIL',
      detail: `${probe} does not resolve: add a wildcard DNS record *.${d} pointing at the gateway (or its reverse proxy)`,
    });
  }
  if (cfg.publicScheme !== 'https') {
    out.push({
      name: 'public-scheme',
      status: 'warn',
      detail: `GATE_PUBLIC_SCHEME=http on a public domain: previews need https (secure context for the Service Worker); terminate TLS in front (docs/reverse-proxy.md) and set GATE_PUBLIC_SCHEME=https`,
    });
  }
  return out;
}

function checkSettings(env: EnvConfig, cfg: ResolvedConfig, raw: NodeJS.ProcessEnv): CheckResult[] {
  const out: CheckResult[] = [];
  out.push(
    cfg.signingKeys
      ? { name: 'signing-keys', status: 'ok', detail: `GATE_SIGNING_KEYS holds ${cfg.signingKeys.keys.length} key(s)` }
      : {
          name: 'signing-keys',
          status: 'warn',
          detail:
            'GATE_SIGNING_KEYS unset: a key is generated at each start, so open previews and share links end at a restart (unless GATE_REDIS_URL shares keys); `preview-gate keys` makes a set',
        },
  );
  if (cfg.allowedOrigins.length === 0) {
    out.push({
      name: 'allowed-origins',
      status: 'warn',
      detail:
        "GATE_ALLOWED_ORIGINS unset: no host page can call the broker API from a browser (the embed); set it to your app's origin, e.g. https://ide.example.com",
    });
  } else {
    out.push({
      name: 'allowed-origins',
      status: cfg.allowedOrigins.includes('*') && !cfg.demo ? 'warn' : 'ok',
      detail: `GATE_ALLOWED_ORIGINS=${cfg.allowedOrigins.join(',')}${cfg.allowedOrigins.includes('*') && !cfg.demo ? ': any site may call the broker API with a session it holds; list your origins instead' : ''}`,
    });
  }
  if (cfg.demo)
    out.push({ name: 'demo', status: 'warn', detail: 'GATE_DEMO=true: POST /api/demo/session gives anyone a session for any user: never in production' });
  if (!raw.GATE_METRICS_TOKEN)
    out.push({ name: 'metrics', status: 'ok', detail: '/metrics closed (set GATE_METRICS_TOKEN to scrape it with Authorization: Bearer)' });
  if (env.host === '0.0.0.0' || env.host === '::') out.push({ name: 'listen', status: 'ok', detail: `listening on all interfaces, port ${env.port}` });
  return out;
}

/** Runs every check (network ones in parallel). */
export async function runDoctor(raw: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  let env: EnvConfig;
  let cfg: ResolvedConfig;
  try {
    env = configFromEnv(raw);
    cfg = resolveConfig(env.config);
  } catch (err) {
    const results: CheckResult[] = [
      { name: 'config', status: 'FAIL', detail: (err instanceof Error ? err.message : String(err)).replace(/^preview-gate( config)?: /, '') },
    ];
    results.push(await checkDaytona(raw));
    const redis = await checkRedis(raw);
    if (redis) results.push(redis);
    return results;
  }
  const results: CheckResult[] = [{ name: 'config', status: 'ok', detail: 'the environment is a valid configuration' }];
  const [daytona, users, redis, domain] = await Promise.all([checkDaytona(raw), checkUserSessions(cfg), checkRedis(raw), checkPreviewDomain(cfg)]);
  results.push(daytona, users, ...(redis ? [redis] : []), ...domain, ...checkSettings(env, cfg, raw));
  return results;
}

/** `FAIL daytona   http://… refused DAYTONA_API_KEY …` */
export function formatCheck(r: CheckResult): string {
  return `${r.status.padEnd(4)} ${r.name.padEnd(16)} ${r.detail}`;
}
