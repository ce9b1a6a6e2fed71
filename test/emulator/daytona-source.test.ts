/**
 * The emulator answers the way Daytona's source does (docs/daytona.md), where it used to be
 * kinder: runner-less (archived) and paused sandboxes, the client's X-Forwarded-Proto, which
 * browsers get the warning page, OPTIONS without a cross-origin Origin, last activity while a
 * connection stays open, and the token-check cache. Driven through the real SDK or raw HTTP.
 */
import { Daytona } from '@daytonaio/sdk';
import { io as ioClient } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startEmulatorWithSdk, type EmulatorWithSdk } from '../support/emulator-sdk.js';
import { TokenCheckCache } from '../../demo/emulator/token-cache.js';
import { hostOf, proxyRequest } from './proxy-request.js';

let emu: Emulator;
let daytona: Daytona;
let rig: EmulatorWithSdk;
beforeAll(async () => {
  ({ emu, daytona } = rig = await startEmulatorWithSdk({ port: 0, activityIntervalMs: 100 }));
});
afterAll(() => rig?.close());
afterEach(() => {
  vi.useRealTimers();
});

const withToken = (token: string) => ({ headers: { 'x-daytona-preview-token': token, accept: 'application/json' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The SDK's own socket may hear an event before the test's watcher does: wait for the watcher. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(25);
}

/** Every `sandbox.state.updated` the emulator emits, read with a plain Socket.IO client (as the SDK does). */
function watchStates(token = emu.apiKey): Promise<{ states: string[]; close(): void }> {
  const states: string[] = [];
  const socket = ioClient(`http://127.0.0.1:${emu.port}`, { path: '/api/socket.io/', transports: ['websocket'], auth: { token }, reconnection: false });
  socket.on('sandbox.state.updated', (e: { sandbox: { id: string }; newState: string }) => states.push(`${e.sandbox.id}:${e.newState}`));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ states, close: () => socket.disconnect() }));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

describe('sandbox states', () => {
  it('archived: no runner, so the proxy answers 400 "bad request: failed to get runner info: … does not have a runner"; start restores it with a new token', async () => {
    const sandbox = await daytona.create({});
    const oldToken = (await sandbox.getPreviewLink(3000)).token;
    await sandbox.stop();
    await sandbox.archive();
    await sandbox.refreshData();
    expect(sandbox.state).toBe('archived');
    const res = await proxyRequest(emu.previewUrl(sandbox.id, 3000), '/api/echo', withToken(oldToken));
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({
      statusCode: 400,
      code: 'BAD_REQUEST',
      message: `bad request: failed to get runner info: Sandbox with ID ${sandbox.id} does not have a runner`,
    });
    const watch = await watchStates();
    try {
      await sandbox.start();
      expect(sandbox.state).toBe('started');
      await until(() => watch.states.includes(`${sandbox.id}:started`));
      expect(watch.states.filter((s) => s.startsWith(sandbox.id))).toEqual([`${sandbox.id}:restoring`, `${sandbox.id}:starting`, `${sandbox.id}:started`]);
    } finally {
      watch.close();
    }
    const newToken = (await sandbox.getPreviewLink(3000)).token;
    expect(newToken).not.toBe(oldToken);
    expect((await proxyRequest(emu.previewUrl(sandbox.id, 3000), '/api/echo', withToken(newToken))).status).toBe(200);
  });

  it('paused: the proxy answers "no IP address found"; start goes through resuming and keeps the standard token (from stopped it rotates)', async () => {
    const sandbox = await daytona.create({});
    const token = (await sandbox.getPreviewLink(3000)).token;
    await sandbox.pause();
    expect(sandbox.state).toBe('paused');
    const res = await proxyRequest(emu.previewUrl(sandbox.id, 3000), '/api/echo', withToken(token));
    expect(res.status).toBe(400);
    expect(res.json().message).toBe('bad request: no IP address found. Is the Sandbox started?');
    const watch = await watchStates();
    try {
      await sandbox.start();
      await until(() => watch.states.includes(`${sandbox.id}:started`));
      expect(watch.states.filter((s) => s.startsWith(sandbox.id))).toEqual([`${sandbox.id}:resuming`, `${sandbox.id}:started`]);
    } finally {
      watch.close();
    }
    expect((await sandbox.getPreviewLink(3000)).token).toBe(token);
    expect((await proxyRequest(emu.previewUrl(sandbox.id, 3000), '/api/echo', withToken(token))).status).toBe(200);
    // Control: from stopped, the token rotates.
    await sandbox.stop();
    await sandbox.start();
    expect((await sandbox.getPreviewLink(3000)).token).not.toBe(token);
  });
});

describe('the SDK in its default mode (Socket.IO)', () => {
  it('create() waits on the state event, not on polling: at most one GET, where polling mode makes several', async () => {
    const slow = await startEmulator({ port: 0, startingMs: 700 });
    const events = new Daytona({ apiKey: slow.apiKey, apiUrl: slow.apiUrl, target: 'us' });
    const polling = new Daytona({ apiKey: slow.apiKey, apiUrl: slow.apiUrl, target: 'us', useDeprecatedPolling: true });
    try {
      await events.list(); // lets the client open its socket first
      for (let i = 0; i < 100 && slow.eventConnections === 0; i++) await sleep(50);
      expect(slow.eventConnections).toBeGreaterThan(0);
      const gets = async (client: Daytona) => {
        const before = slow.stats.apiRequests;
        const sandbox = await client.create({});
        expect(sandbox.state).toBe('started');
        return slow.stats.apiRequests - before - 1; // minus the POST
      };
      expect(await gets(events)).toBeLessThanOrEqual(1);
      expect(await gets(polling)).toBeGreaterThanOrEqual(3);
    } finally {
      await events[Symbol.asyncDispose]();
      await polling[Symbol.asyncDispose]();
      await slow.close();
    }
  });

  it('a Socket.IO client with a wrong API key is refused', async () => {
    await expect(watchStates('wrong-key')).rejects.toThrow(/unauthorized/);
    const ok = await watchStates();
    ok.close();
  });

  it('a process using the SDK in default mode exits by itself after asyncDispose', async () => {
    const { spawn } = await import('node:child_process');
    const script = `
      import { Daytona } from '@daytonaio/sdk';
      const d = new Daytona({ apiKey: ${JSON.stringify(emu.apiKey)}, apiUrl: ${JSON.stringify(emu.apiUrl)}, target: 'us' });
      const s = await d.create({});
      await s.stop();
      await s.start();
      console.log('state', s.state);
      await d[Symbol.asyncDispose]();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 45_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out).toContain('state started');
    expect(code).toBe(0);
  }, 60_000);
});

describe('forwarding', () => {
  it("the client's X-Forwarded-Proto reaches the app untouched, and none is added", async () => {
    const { id } = await emu.createSandbox({});
    const token = emu.standardToken(id);
    const given = await proxyRequest(emu.previewUrl(id, 3000), '/api/echo', { headers: { ...withToken(token).headers, 'x-forwarded-proto': 'https' } });
    expect(given.json().headers['x-forwarded-proto']).toBe('https');
    const none = await proxyRequest(emu.previewUrl(id, 3000), '/api/echo', withToken(token));
    expect(none.json().headers['x-forwarded-proto']).toBeUndefined();
    expect(none.json().headers['x-forwarded-host']).toBe(hostOf(emu.previewUrl(id, 3000)));
  });

  it('OPTIONS without an Origin, or with a same-origin one, goes through auth to the app; a cross-origin one is answered 204', async () => {
    const { id } = await emu.createSandbox({});
    const url = emu.previewUrl(id, 3000);
    expect((await proxyRequest(url, '/api/echo', { method: 'OPTIONS' })).status).toBe(307);
    const plain = await proxyRequest(url, '/api/echo', { method: 'OPTIONS', ...withToken(emu.standardToken(id)) });
    expect(plain.status).toBe(200);
    expect(plain.json().method).toBe('OPTIONS');
    const same = await proxyRequest(url, '/api/echo', {
      method: 'OPTIONS',
      headers: { ...withToken(emu.standardToken(id)).headers, origin: `http://${hostOf(url)}` },
    });
    expect(same.json().method).toBe('OPTIONS');
    const cross = await proxyRequest(url, '/api/echo', {
      method: 'OPTIONS',
      headers: { origin: 'https://ide.example', 'access-control-request-method': 'PUT' },
    });
    expect(cross.status).toBe(204);
    expect(cross.headers['access-control-max-age']).toBe('43200');
  });
});

describe('warning page', () => {
  const UAS: Record<string, string> = {
    chrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
    firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
    safari: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
    edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0',
  };
  const QUIET: Record<string, string> = {
    headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
    curl: 'curl/8.5.0',
    node: 'node',
  };
  it('is served to the browsers Daytona names and not to headless Chromium, curl or a library', async () => {
    const { id } = await emu.createSandbox({});
    const url = emu.previewUrl(id, 3000);
    for (const ua of Object.values(UAS)) {
      const res = await proxyRequest(url, '/', { headers: { 'user-agent': ua } });
      expect(res.text()).toContain('daytona-preview-warning');
    }
    for (const ua of Object.values(QUIET)) {
      const res = await proxyRequest(url, '/api/echo', { headers: { ...withToken(emu.standardToken(id)).headers, 'user-agent': ua } });
      expect(res.status).toBe(200);
      expect(res.text()).not.toContain('daytona-preview-warning');
    }
  });
});

describe('last activity', () => {
  function openSocket(id: string, headers: Record<string, string>): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${emu.port}/ws`, { headers: { host: hostOf(emu.previewUrl(id, 3000)), ...headers } });
    return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
  }

  it('is refreshed on every interval while a WebSocket stays open, and stops when it closes', async () => {
    const { id } = await emu.createSandbox({});
    const ws = await openSocket(id, { 'x-daytona-preview-token': emu.standardToken(id) });
    const opened = emu.activityUpdates(id);
    expect(opened).toBeGreaterThanOrEqual(1);
    await sleep(800); // interval 100 ms in this suite (Daytona: 50 s)
    expect(emu.activityUpdates(id) - opened).toBeGreaterThanOrEqual(3);
    ws.close();
    await sleep(300);
    const closed = emu.activityUpdates(id);
    await sleep(500);
    expect(emu.activityUpdates(id)).toBe(closed);
  });

  it('X-Daytona-Skip-Last-Activity-Update: true leaves it alone, on the request and while the connection stays open', async () => {
    const { id } = await emu.createSandbox({});
    const before = emu.activityUpdates(id);
    const ws = await openSocket(id, { 'x-daytona-preview-token': emu.standardToken(id), 'x-daytona-skip-last-activity-update': 'true' });
    await sleep(600);
    expect(emu.activityUpdates(id)).toBe(before);
    ws.close();
  });
});

describe("Daytona's token-check cache (switch)", () => {
  it('tokenCache: a rotated standard token keeps working up to 2 minutes, then gets the 307; strict mode refuses it at once', async () => {
    const cached = await startEmulator({ port: 0, tokenCache: true });
    try {
      const { id } = await cached.createSandbox({});
      const old = cached.standardToken(id);
      expect((await proxyRequest(cached.previewUrl(id, 3000), '/api/echo', withToken(old))).status).toBe(200);
      await cached.stopSandbox(id);
      await cached.startSandbox(id);
      expect((await proxyRequest(cached.previewUrl(id, 3000), '/api/echo', withToken(old))).status).toBe(200);
      const now = Date.now();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(now + 121_000);
      expect((await proxyRequest(cached.previewUrl(id, 3000), '/api/echo', withToken(old))).status).toBe(307);
      expect((await proxyRequest(cached.previewUrl(id, 3000), '/api/echo', withToken(cached.standardToken(id)))).status).toBe(200);
    } finally {
      vi.useRealTimers();
      await cached.close();
    }
    // Strict (the default): refused right after the restart.
    const { id } = await emu.createSandbox({});
    const old = emu.standardToken(id);
    expect((await proxyRequest(emu.previewUrl(id, 3000), '/api/echo', withToken(old))).status).toBe(200);
    await emu.stopSandbox(id);
    await emu.startSandbox(id);
    expect((await proxyRequest(emu.previewUrl(id, 3000), '/api/echo', withToken(old))).status).toBe(307);
  });

  it('tokenCache: a revoked signed token keeps working up to 2 minutes', async () => {
    const cached = await startEmulator({ port: 0, tokenCache: true });
    try {
      const { id } = await cached.createSandbox({});
      const signed = await (
        await fetch(`${cached.apiUrl}/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=600`, {
          headers: { authorization: `Bearer ${cached.apiKey}` },
        })
      ).json();
      expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200);
      cached.expireSignedTokens(id);
      expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200);
      const now = Date.now();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(now + 121_000);
      expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(307);
    } finally {
      vi.useRealTimers();
      await cached.close();
    }
  });

  it('an invalid verdict is remembered 5 s, a valid one 2 minutes', () => {
    let t = 0;
    const cache = new TokenCheckCache(() => t);
    let valid = false;
    expect(cache.check('k', () => valid)).toBe(false);
    valid = true;
    t = 4_999;
    expect(cache.check('k', () => valid)).toBe(false);
    t = 5_001;
    expect(cache.check('k', () => valid)).toBe(true);
    valid = false;
    t = 5_001 + 119_999;
    expect(cache.check('k', () => valid)).toBe(true);
    t = 5_001 + 120_001;
    expect(cache.check('k', () => valid)).toBe(false);
  });
});
