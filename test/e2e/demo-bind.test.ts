/**
 * EMULATOR_BIND (demo/emulator/bind.ts): ports of the sample sandbox bound to servers on this
 * machine, for `npm run emulator` and `npm run demo`. A real local HTTP server with a real
 * WebSocket endpoint, started by the test, is previewed through the emulator alone, and through
 * the gateway in Chromium (the page loads, its WebSocket echoes), with no gateway credential
 * reaching it. Malformed values are refused with a message naming the entry.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { BindError, parseEmulatorBind } from '../../demo/emulator/bind.js';
import { proxyRequest } from '../emulator/proxy-request.js';
import { launchChromium } from '../support/chromium.js';
import { startDemoProcess } from './demo-process.js';
import { gatewayCredentialsIn } from './inspector.js';

/** A page whose script opens a WebSocket to its own origin and shows the echo. */
const PAGE = `<!doctype html><title>my dev server</title><h1>My own dev server</h1><p id="ws">ws: connecting</p>
<script>
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/live');
  ws.onopen = () => ws.send('ping from the page');
  ws.onmessage = (e) => { document.getElementById('ws').textContent = 'ws: ' + e.data; };
  ws.onerror = () => { document.getElementById('ws').textContent = 'ws: error'; };
</script>`;

interface LocalServer {
  url: string;
  name: string;
  /** Every HTTP request and upgrade that reached it: path, headers. */
  seen: Array<{ path: string; headers: IncomingHttpHeaders; upgrade: boolean }>;
  close(): Promise<void>;
}

async function startLocalServer(name: string): Promise<LocalServer> {
  const seen: LocalServer['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers, upgrade: false });
    if (req.url === '/hello') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${name}`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE.replace('My own dev server', `My own dev server: ${name}`));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ path: req.url ?? '', headers: req.headers, upgrade: true });
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`${name} echoes: ${m.toString()}`)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    name,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let a: LocalServer;
let b: LocalServer;
beforeAll(async () => {
  [a, b] = await Promise.all([startLocalServer('server-a'), startLocalServer('server-b')]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

describe('EMULATOR_BIND parsing', () => {
  it('a comma list of {sandboxPort}={http URL} becomes port bindings (a path is a prefix)', () => {
    expect(parseEmulatorBind(' 3000=http://127.0.0.1:4123 , 8501=http://localhost:4124/lab/ ')).toEqual({
      3000: { target: 'http://127.0.0.1:4123' },
      8501: { target: 'http://localhost:4124/lab' },
    });
    expect(parseEmulatorBind(undefined)).toEqual({});
    expect(parseEmulatorBind('  ')).toEqual({});
  });

  it.each([
    ['3000', 'EMULATOR_BIND entry 1 ("3000") must be {sandboxPort}={http URL} (example: EMULATOR_BIND=3000=http://127.0.0.1:4123,8501=http://127.0.0.1:4124)'],
    ['3000=http://a:1,', 'EMULATOR_BIND entry 2 ("") is empty: remove the extra comma'],
    ['0=http://a:1', 'EMULATOR_BIND entry 1 ("0=http://a:1"): the sandbox port must be a number from 1 to 65535, got "0"'],
    ['70000=http://a:1', 'the sandbox port must be a number from 1 to 65535, got "70000"'],
    ['web=http://a:1', 'the sandbox port must be a number from 1 to 65535, got "web"'],
    ['3000=http://a:1,3000=http://a:2', 'EMULATOR_BIND entry 2 ("3000=http://a:2"): sandbox port 3000 is bound twice'],
    ['3000=localhost:4123', '"localhost:4123" needs its scheme: write http://localhost:4123'],
    ['3000=http://', '"http://" is not a URL (expected e.g. http://127.0.0.1:4123)'],
    ['3000=https://127.0.0.1:4123', 'only http: URLs can be bound (a local dev server), got https:'],
    ['3000=http://u:p@127.0.0.1:4123', 'the URL must not carry a user name or password'],
    ['3000=http://127.0.0.1:4123/?x=1', 'the URL must not have a query or fragment (a path prefix is fine)'],
  ])('%s is refused: %s', (raw, message) => {
    expect(() => parseEmulatorBind(raw)).toThrow(BindError);
    expect(() => parseEmulatorBind(raw)).toThrow(message);
  });
});

describe('npm run emulator with EMULATOR_BIND', { timeout: 120_000 }, () => {
  it('previews the local server on the bound sandbox port: HTTP and WebSocket, as Daytona forwards them', async () => {
    const emu = await startDemoProcess('demo/emulator/main.ts', { EMULATOR_PORT: '0', EMULATOR_BIND: `4123=${a.url}` }, 'BOUND_PREVIEW_URL_4123');
    try {
      const previewUrl = emu.lines.get('BOUND_PREVIEW_URL_4123')!;
      const token = emu.lines.get('PREVIEW_TOKEN')!;
      expect(previewUrl).toBe(`http://4123-${emu.lines.get('SANDBOX_ID')}.proxy.localhost:${new URL(emu.lines.get('DAYTONA_API_URL')!).port}`);
      const res = await proxyRequest(previewUrl, '/hello', { headers: { 'x-daytona-preview-token': token } });
      expect([res.status, res.text()]).toEqual([200, 'hello from server-a']);
      expect(a.seen.at(-1)!.headers.host).toBe('localhost:4123');
      // Positive control's refusal: without the token the emulated Daytona does not forward.
      const before = a.seen.length;
      expect((await proxyRequest(previewUrl, '/hello')).status).toBe(307);
      expect(a.seen.length).toBe(before);
      // The WebSocket, relayed to the local server.
      const url = new URL(previewUrl);
      const ws = new WebSocket(`ws://127.0.0.1:${url.port}/live`, { headers: { host: url.host, 'x-daytona-preview-token': token } });
      const echoed = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('over the emulator'));
        ws.once('message', (m) => resolve(m.toString()));
        ws.once('error', reject);
      });
      ws.close();
      expect(echoed).toBe('server-a echoes: over the emulator');
    } finally {
      await emu.stop();
    }
  });

  it('a malformed EMULATOR_BIND stops it with the message, exit 2', async () => {
    const emu = await startDemoProcess('demo/emulator/main.ts', { EMULATOR_PORT: '0', EMULATOR_BIND: `4123=${a.url},4123=${b.url}` }, 'PREVIEW_TOKEN');
    expect(await emu.exited).toBe(2);
    expect(emu.stderr()).toContain(`EMULATOR_BIND entry 2 ("4123=${b.url}"): sandbox port 4123 is bound twice`);
    expect(emu.lines.size).toBe(0);
  });
});

describe('npm run demo with EMULATOR_BIND, in Chromium through the gateway', { timeout: 150_000 }, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the bound ports show the local servers (page and WebSocket), in a tab and in the host page, with no gateway credential reaching them', async () => {
    // A third binding to a port nothing listens on: the demo says so (its preview waits for it).
    const dead = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const bind = `3000=${a.url},8501=${b.url},9000=http://127.0.0.1:${dead}`;
    const demo = await startDemoProcess('demo/main.ts', { EMULATOR_PORT: '0', GATE_PORT: '0', DEMO_HOST_PORT: '0', EMULATOR_BIND: bind }, 'DEMO_USER');
    const context = await browser.newContext();
    try {
      expect(demo.stdout()).toContain(`# EMULATOR_BIND: sandbox port 8501 → ${b.url}\n`);
      expect(demo.stdout()).toContain(
        `# EMULATOR_BIND: sandbox port 9000 → http://127.0.0.1:${dead} (nothing answers there yet: its preview waits until it does)\n`,
      );
      const host = demo.lines.get('HOST_PAGE_URL')!;
      expect(demo.lines.get('BOUND_LAUNCH_URL_8501')).toBe(`${host}launch?port=8501`);

      // In a tab of its own (the Service Worker path), from the printed launch page.
      const tab = await context.newPage();
      await tab.goto(demo.lines.get('BOUND_LAUNCH_URL_8501')!);
      await tab.waitForURL(/^http:\/\/8501-[^/]+\.preview\.localhost:\d+\/$/, { timeout: 30_000 });
      await tab.waitForFunction(() => document.getElementById('ws')?.textContent !== 'ws: connecting', undefined, { timeout: 20_000 });
      expect(await tab.locator('h1').innerText()).toBe('My own dev server: server-b');
      expect(await tab.locator('#ws').innerText()).toBe('ws: server-b echoes: ping from the page');
      await tab.close();

      // In the host page (a cross-site iframe: the cookie path): port 3000 is now server-a.
      const page = await context.newPage();
      await page.goto(host);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 30_000 });
      expect(await page.locator('#apps').innerText()).toContain(`Port 8501: ${b.url}`);
      expect(await page.locator('#apps [aria-current]').innerText()).toBe(`Port 3000: ${a.url}`);
      const frame = page.frames().find((f) => f.url().startsWith('http://3000-'))!;
      await frame.waitForFunction(() => document.getElementById('ws')?.textContent !== 'ws: connecting', undefined, { timeout: 20_000 });
      expect(await frame.locator('#ws').innerText()).toBe('ws: server-a echoes: ping from the page');

      for (const server of [a, b]) {
        const upgrades = server.seen.filter((s) => s.upgrade);
        expect(upgrades.length).toBeGreaterThan(0);
        for (const s of server.seen) {
          const cookies = Object.fromEntries(
            (s.headers.cookie ?? '')
              .split(/;\s*/)
              .filter(Boolean)
              .map((c) => c.split('=') as [string, string]),
          );
          const query = Object.fromEntries(new URL(s.path, 'http://x').searchParams);
          expect(gatewayCredentialsIn({ headers: s.headers as Record<string, unknown>, cookies, query })).toEqual([]);
        }
      }
    } finally {
      await context.close();
      await demo.stop();
    }
  });
});
