/**
 * WebKit (Safari's engine) for the browser tests: Debian's WebKitGTK MiniBrowser driven by
 * `WebKitWebDriver` over plain W3C WebDriver (HTTP + JSON), under `Xvfb` (WebKitGTK has no
 * headless mode). No npm package: `WebDriverClient` below is the few commands the tests need.
 *
 * `launchWebKit()` starts three processes and `close()` ends all three (session first, so the
 * MiniBrowser exits, then the driver, then Xvfb):
 *  - `Xvfb -displayfd`: the X server picks a free display itself and writes its number to us;
 *  - `WebKitWebDriver --port=<free>` bound to loopback;
 *  - a session with `webkitgtk:browserOptions` naming MiniBrowser `--automation`, and
 *    `acceptInsecureCerts` so a certificate generated for the test (test/support/tls-front.ts)
 *    is accepted.
 * WebKit is optional: `webkitAvailable()` says why not when a part is missing, and the WebKit
 * tests skip with that reason (scripts/ensure-browsers.mjs installs it where it can).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MINIBROWSER = process.env.WEBKIT_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const DRIVER_CANDIDATES = [process.env.WEBKIT_WEBDRIVER, '/usr/bin/WebKitWebDriver'];
const XVFB_CANDIDATES = ['/usr/bin/Xvfb'];

const found = (list: (string | undefined)[]) => list.find((p): p is string => Boolean(p && existsSync(p)));

/** Undefined when WebKit can run here; otherwise why not (the tests put it in their name). */
export function webkitUnavailable(): string | undefined {
  if (!found(DRIVER_CANDIDATES)) return 'no WebKitWebDriver (apt-get install webkit2gtk-driver)';
  if (!existsSync(MINIBROWSER)) return `no MiniBrowser at ${MINIBROWSER} (apt-get install webkit2gtk-driver)`;
  if (!found(XVFB_CANDIDATES)) return 'no Xvfb (apt-get install xvfb)';
  return undefined;
}

const W3C_ELEMENT = 'element-6066-11e4-a5f3-4a5b7c6d7e8f';
export type ElementRef = { [W3C_ELEMENT]: string };

/** A WebDriver error answer (`error` is the W3C error code, e.g. `javascript error`, `timeout`). */
export class WebDriverError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(`${error}: ${message}`);
  }
}

/** The handful of W3C WebDriver commands the tests use, over fetch. */
export class WebDriverClient {
  constructor(
    readonly base: string,
    readonly sessionId: string,
  ) {}

  async command<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}/session/${this.sessionId}${path}`, {
      method,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      signal: AbortSignal.timeout(120_000),
    });
    const json = (await res.json().catch(() => ({ value: { error: 'unknown error', message: `HTTP ${res.status}` } }))) as { value: unknown };
    const value = json.value as { error?: string; message?: string } | null;
    if (!res.ok || (value && typeof value === 'object' && typeof value.error === 'string')) {
      throw new WebDriverError(value?.error ?? 'unknown error', value?.message ?? `HTTP ${res.status}`);
    }
    return json.value as T;
  }

  navigate(url: string): Promise<unknown> {
    return this.command('POST', '/url', { url });
  }
  url(): Promise<string> {
    return this.command('GET', '/url');
  }
  /** Runs `script` (a function body; `arguments[i]` are `args`) and returns its JSON-able result. */
  execute<T = unknown>(script: string, args: unknown[] = []): Promise<T> {
    return this.command('POST', '/execute/sync', { script, args });
  }
  /** Like execute, but the script calls `arguments[arguments.length - 1](result)` when done. */
  executeAsync<T = unknown>(script: string, args: unknown[] = []): Promise<T> {
    return this.command('POST', '/execute/async', { script, args });
  }
  /**
   * Calls a self-contained page-side function (a probe of test/e2e/inspector.ts, for instance)
   * and awaits its promise: the function's source is sent, so it must not close over anything.
   */
  call<T>(fn: (...args: never[]) => T | Promise<T>, ...args: unknown[]): Promise<T> {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn.toString()}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
        .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: String(e && e.stack || e) }));`;
    return this.executeAsync<{ ok?: T; err?: string }>(script, args).then((r) => {
      if (r && 'err' in r && r.err !== undefined) throw new WebDriverError('javascript error', r.err);
      return r.ok as T;
    });
  }
  findElement(css: string): Promise<ElementRef> {
    return this.command('POST', '/element', { using: 'css selector', value: css });
  }
  /** Into a frame (an element from findElement), or back to the top (null). */
  switchToFrame(frame: ElementRef | null): Promise<unknown> {
    return this.command('POST', '/frame', { id: frame });
  }
  setTimeouts(t: { script?: number; pageLoad?: number; implicit?: number }): Promise<unknown> {
    return this.command('POST', '/timeouts', t);
  }
  async deleteSession(): Promise<void> {
    await fetch(`${this.base}/session/${this.sessionId}`, { method: 'DELETE', signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  }
}

export interface WebKit {
  driver: WebDriverClient;
  /** MiniBrowser's version, from the session's capabilities. */
  version: string;
  close(): Promise<void>;
}

/** A free loopback port (listen on 0, close, hand the number to a child process). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stop(child: ChildProcess | undefined, graceMs = 5_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** Starts Xvfb on a display it picks itself (-displayfd); resolves with `:N`. */
function startXvfb(): Promise<{ child: ChildProcess; display: string }> {
  const xvfb = found(XVFB_CANDIDATES)!;
  const child = spawn(xvfb, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`Xvfb did not report a display within 20 s: ${stderr}`)), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, display: `:${m[1]}` });
      }
    });
    child.once('exit', (code) => fail(new Error(`Xvfb exited (${code}): ${stderr}`)));
  });
}

async function waitForDriver(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode})`);
    try {
      const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('WebKitWebDriver did not answer /status within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Xvfb + WebKitWebDriver + one MiniBrowser session. A fresh XDG data/cache home per launch, so
 * no cookie, worker or IndexedDB survives from another run.
 */
export async function launchWebKit(): Promise<WebKit> {
  const why = webkitUnavailable();
  if (why) throw new Error(`WebKit unavailable: ${why}`);
  const home = await mkdtemp(join(tmpdir(), 'pg-webkit-'));
  let xvfb: ChildProcess | undefined;
  let driverProcess: ChildProcess | undefined;
  let driver: WebDriverClient | undefined;
  const close = async () => {
    await driver?.deleteSession();
    await stop(driverProcess);
    await stop(xvfb);
    await rm(home, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const x = await startXvfb();
    xvfb = x.child;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DISPLAY: x.display,
      HOME: home,
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_CONFIG_HOME: join(home, 'config'),
      // Loopback only: the environment's proxy must not see *.localhost previews.
      no_proxy: '*',
      NO_PROXY: '*',
      // No accelerated compositing under Xvfb (no GPU): software rendering, fewer warnings.
      WEBKIT_DISABLE_COMPOSITING_MODE: '1',
      LIBGL_ALWAYS_SOFTWARE: '1',
    };
    for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[k];
    driverProcess = spawn(found(DRIVER_CANDIDATES)!, [`--port=${port}`, '--host=local'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const base = `http://127.0.0.1:${port}`;
    await waitForDriver(base, driverProcess);
    const res = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            acceptInsecureCerts: true,
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          },
        },
      }),
      signal: AbortSignal.timeout(90_000),
    });
    const json = (await res.json()) as { value: { sessionId?: string; capabilities?: Record<string, unknown>; error?: string; message?: string } };
    if (!res.ok || !json.value.sessionId) throw new Error(`WebKitWebDriver refused the session: ${json.value.error}: ${json.value.message}`);
    driver = new WebDriverClient(base, json.value.sessionId);
    await driver.setTimeouts({ script: 60_000, pageLoad: 60_000, implicit: 0 });
    const caps = json.value.capabilities ?? {};
    return { driver, version: `${String(caps.browserName)} ${String(caps.browserVersion)}`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
