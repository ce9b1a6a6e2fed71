/**
 * A gateway as its own process, as an operator runs it: the bundle of `broker/node/main.ts`
 * (bundle.ts) under plain `node`, configured by the environment, for the shutdown and
 * multi-instance tests. One process: a signal or SIGKILL reaches the gateway itself.
 *
 * @example
 * const gw = await spawnGateway({ GATE_USER_JWT_SECRET: secret, DAYTONA_API_URL: apiUrl, DAYTONA_API_KEY: key });
 * await fetch(`${gw.url}/readyz`);
 * gw.child.kill('SIGTERM');
 * expect((await gw.exited).code).toBe(0);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { gatewayBundle } from './bundle.js';
import { ROOT } from './paths.js';

export { ROOT };

export interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:{port}` from the GATEWAY_URL line. */
  url: string;
  port: number;
  /** Everything written on stdout so far (JSON log lines and the NAME=VALUE lines). */
  out(): string;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout matches `re` (polling), rejects after `ms`. */
  waitForOutput(re: RegExp, ms?: number): Promise<void>;
  /** The JSON log lines whose `event` is `name`. */
  events(name: string): Record<string, unknown>[];
}

export async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts `broker/node/main.ts` with `env` (plus PATH, GATE_PORT=0) and waits for its GATEWAY_URL line. */
export async function spawnGateway(env: Record<string, string>, opts: { readyMs?: number } = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [await gatewayBundle()], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', GATE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const waitForOutput = (re: RegExp, ms = 30_000) =>
    waitUntil(() => re.test(out) || gone, ms, `${re}`).then(() => {
      if (!re.test(out)) throw new Error(`gateway exited before printing ${re}: ${err.slice(0, 2000)}`);
    });
  try {
    await waitForOutput(/JWKS_URL=\S+\n/, opts.readyMs ?? 60_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const url = /GATEWAY_URL=(\S+)/.exec(out)![1]!;
  return {
    child,
    url,
    port: Number(new URL(url).port),
    out: () => out,
    err: () => err,
    exited,
    waitForOutput,
    events: (name) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        })
        .filter((e) => e.event === name || e.msg === name),
  };
}

/** Stops a gateway process if it is still running (SIGKILL: for after-each cleanup). */
export async function killGateway(gw: GatewayProcess | undefined): Promise<void> {
  if (!gw || gw.child.exitCode !== null || gw.child.signalCode !== null) return;
  gw.child.kill('SIGKILL');
  await gw.exited;
}
