/**
 * Gateway instances sharing one Redis, for test/redis/*: each is a real gateway
 * (`startGateway`: real sockets, the real SDK port against the emulator, node-redis to a real
 * redis-server), all with the same public port in their config, as behind one load balancer,
 * so a token minted by one has the audience the others expect. Requests go to 127.0.0.1 on
 * the instance's own port with the public Host header (stack.ts does the same for one gateway).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import type { GatewayConfig } from '../../broker/core/config.js';
import type { Logger } from '../../broker/core/contracts.js';
import { GATE_PATHS } from '../../protocol/index.js';
import { cookieHeaderOf, rawRequest, type PreviewRequestInit, type StackResponse } from '../support/stack.js';
import type { Emulator } from '../../demo/emulator/index.js';

export const silent: Logger = { info() {}, warn() {}, error() {} };

/** What the instances of one fleet share. */
export interface FleetConfig {
  emulator: Emulator;
  redisUrl: string;
  prefix: string;
  userSecret: string;
  keysSecret: string;
  /** The balancer's port, as the public port of every instance. */
  publicPort: number;
  extra?: Partial<GatewayConfig>;
}

export function fleetConfig(emulator: Emulator, redisUrl: string, extra: Partial<GatewayConfig> = {}): FleetConfig {
  return {
    emulator,
    redisUrl,
    prefix: `t${randomBytes(4).toString('hex')}:`,
    userSecret: randomBytes(32).toString('base64url'),
    keysSecret: randomBytes(32).toString('base64url'),
    publicPort: 40000 + Math.floor(Math.random() * 20000),
    extra,
  };
}

export interface Instance {
  gw: RunningGateway;
  preview(sandboxId: string, port: number, path: string, init?: PreviewRequestInit): Promise<StackResponse>;
  api(path: string, init?: PreviewRequestInit): Promise<StackResponse>;
  close(): Promise<void>;
}

export async function startInstance(f: FleetConfig, logger: Logger = silent): Promise<Instance> {
  const gw = await startGateway({
    config: {
      userJwtSecret: f.userSecret,
      previewDomain: 'preview.localhost',
      publicPort: f.publicPort,
      redisUrl: f.redisUrl,
      redisPrefix: f.prefix,
      keysSecret: f.keysSecret,
      ...f.extra,
    },
    daytonaApi: { apiUrl: f.emulator.apiUrl, apiKey: f.emulator.apiKey, target: 'us' },
    port: 0,
    logger,
  });
  return {
    gw,
    preview: (id, port, path, init) => rawRequest(gw.port, `${port}-${id}.preview.localhost:${f.publicPort}`, path, init),
    api: (path, init) => rawRequest(gw.port, `127.0.0.1:${f.publicPort}`, path, init),
    close: () => gw.close(),
  };
}

export function previewOrigin(f: FleetConfig, sandboxId: string, port: number): string {
  return `http://${port}-${sandboxId}.preview.localhost:${f.publicPort}`;
}

export async function userSession(f: FleetConfig, userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(f.userSecret));
}

/** POST /api/previews on `on`: the launch code and session id (the answer when not 201). */
export async function createLaunch(
  f: FleetConfig,
  on: Instance,
  userId: string,
  sandboxId: string,
  port: number,
): Promise<{ code: string; sessionId: string; res: StackResponse }> {
  const res = await on.api('/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${await userSession(f, userId)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId, port }),
  });
  if (res.status !== 201) return { code: '', sessionId: '', res };
  const { url, sessionId } = res.json<{ url: string; sessionId: string }>();
  return { code: new URLSearchParams(new URL(url).hash.slice(1)).get('code') ?? '', sessionId, res };
}

export interface Grant {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  cookieHeader: string;
}

/** POST /__gate/session on `on`. */
export async function exchange(
  f: FleetConfig,
  on: Instance,
  sandboxId: string,
  port: number,
  code: string,
): Promise<{ res: StackResponse; grant: Grant | null }> {
  const res = await on.preview(sandboxId, port, GATE_PATHS.session, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: previewOrigin(f, sandboxId, port) },
    body: JSON.stringify({ code }),
  });
  if (res.status !== 200) return { res, grant: null };
  const j = res.json<{ accessToken: string; refreshToken: string; sessionId: string }>();
  return { res, grant: { accessToken: j.accessToken, refreshToken: j.refreshToken, sessionId: j.sessionId, cookieHeader: cookieHeaderOf(res.setCookies) } };
}

/** POST /__gate/refresh with the worker's bearer credential on `on`. */
export function refresh(f: FleetConfig, on: Instance, sandboxId: string, port: number, refreshToken: string): Promise<StackResponse> {
  return on.preview(sandboxId, port, GATE_PATHS.refresh, {
    method: 'POST',
    headers: { authorization: `Bearer ${refreshToken}`, origin: previewOrigin(f, sandboxId, port) },
  });
}

/** A proxied request with the access token in the worker's header. */
export function withToken(on: Instance, sandboxId: string, port: number, token: string, path = '/api/echo'): Promise<StackResponse> {
  return on.preview(sandboxId, port, path, { headers: { 'x-daytona-preview-token': token } });
}

export function codeOf(res: StackResponse): string | undefined {
  try {
    return res.json<{ error?: { code?: string } }>().error?.code;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true; resolves with the ms it took, rejects past `withinMs`. */
export async function eventually(check: () => Promise<boolean>, withinMs: number, stepMs = 20): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await sleep(stepMs);
  }
}

export interface SpawnedInstance extends Instance {
  /** undefined while running; the exit code once it exited. */
  exitCode(): number | null | undefined;
  stderr(): string;
}

/**
 * A gateway PROCESS (`node --import tsx broker/node/main.ts`), configured only from the
 * environment, as `npm run gateway` runs it. Resolves once it printed GATEWAY_URL; rejects with
 * its stderr when it exits first.
 */
export async function spawnInstance(f: FleetConfig, extraEnv: Record<string, string> = {}): Promise<SpawnedInstance> {
  const env = {
    ...process.env,
    GATE_PORT: '0',
    GATE_LOG: 'off',
    GATE_USER_JWT_SECRET: f.userSecret,
    GATE_PREVIEW_DOMAIN: 'preview.localhost',
    GATE_PUBLIC_PORT: String(f.publicPort),
    GATE_REDIS_URL: f.redisUrl,
    GATE_REDIS_PREFIX: f.prefix,
    GATE_KEYS_SECRET: f.keysSecret,
    DAYTONA_API_URL: f.emulator.apiUrl,
    DAYTONA_API_KEY: f.emulator.apiKey,
    DAYTONA_TARGET: 'us',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'broker/node/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let exit: number | null | undefined;
  let err = '';
  child.once('exit', (code) => {
    exit = code;
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`gateway process did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /GATEWAY_URL=http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`gateway process exited with ${code}: ${err}`));
    });
  });
  return {
    gw: null as never,
    preview: (id, prt, path, init) => rawRequest(port, `${prt}-${id}.preview.localhost:${f.publicPort}`, path, init),
    api: (path, init) => rawRequest(port, `127.0.0.1:${f.publicPort}`, path, init),
    exitCode: () => exit,
    stderr: () => err,
    close: async () => {
      if (exit !== undefined) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
    },
  };
}
