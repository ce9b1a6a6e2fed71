/**
 * WebSocket upgrades are rate-limited per user and per client address (limits/config.ts
 * `upgrade`, checked in broker/core/upgrade.ts): every upgrade opens a connection to Daytona's
 * proxy and the sandbox, so one session opening them in a loop, or one address flooding
 * handshakes, is refused with a coded 429 on the handshake itself. A dev server's HMR client,
 * reconnecting and pinging through a restart, is not. Real gateway, emulator, sockets.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

type Handshake = { opened: true } | { opened: false; status: number; code: string | undefined; retryAfter: string | undefined };

/** One handshake to the inspector app's echo socket; open → one echo → close, or the refusal. */
function handshake(stack: Stack, headers: Record<string, string>, path = '/ws'): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${stack.gateway.port}${path}`, {
      headers: { host: stack.previewHost(stack.sandboxes.open, 3000), ...headers },
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('websocket: no answer in 30 s'));
    }, 30_000);
    ws.on('open', () => ws.send('ping'));
    ws.on('message', () => {
      clearTimeout(timer);
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        let code: string | undefined;
        try {
          code = (JSON.parse(Buffer.concat(chunks).toString()) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        const ra = res.headers['retry-after'];
        resolve({ opened: false, status: res.statusCode ?? 0, code, retryAfter: Array.isArray(ra) ? ra[0] : ra });
      });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function expectRefused429(h: Handshake): void {
  expect(h).toMatchObject({ opened: false, status: 429, code: 'rate_limited' });
  expect(Number((h as { retryAfter?: string }).retryAfter)).toBeGreaterThanOrEqual(1);
}

describe('WebSocket upgrade rate limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateway: {
        trustedProxies: ['127.0.0.1', '::1'],
        limits: { rateLimits: { upgrade: { user: 5, address: 8 } } },
      },
    });
  }, 60_000);
  afterAll(() => stack?.close());

  it('a loop of WebSocket upgrades from one session is refused 429 rate_limited with Retry-After; another user still connects', async () => {
    const a = await stack.launch('ws-looper', stack.sandboxes.open, 3000);
    const b = await stack.launch('ws-other', stack.sandboxes.open, 3000);
    // Each handshake from its own address: only the per-user count is in play.
    const as = (l: { cookieHeader: string }, address: string) => ({ cookie: l.cookieHeader, 'x-forwarded-for': address });
    for (let i = 0; i < 5; i++) expect(await handshake(stack, as(a, `192.0.2.${i + 1}`))).toEqual({ opened: true });
    expectRefused429(await handshake(stack, as(a, '192.0.2.10')));
    // The same user with a second session shares the count (it is per user, not per session).
    const a2 = await stack.launch('ws-looper', stack.sandboxes.open, 3000);
    expectRefused429(await handshake(stack, as(a2, '192.0.2.11')));
    // Positive control: another user is unaffected.
    expect(await handshake(stack, as(b, '192.0.2.12'))).toEqual({ opened: true });
  }, 120_000);

  it('a flood of handshakes from one client address is refused 429 before any credential is looked at; another address still connects', async () => {
    const from = (address: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...extra });
    // No credential: 401 while the address has points left, then 429 without authentication.
    for (let i = 0; i < 8; i++) expect(await handshake(stack, from('198.51.100.20'))).toMatchObject({ opened: false, status: 401 });
    expectRefused429(await handshake(stack, from('198.51.100.20')));
    // Past the limit even a valid credential from that address is refused.
    const c = await stack.launch('ws-addr', stack.sandboxes.open, 3000);
    expectRefused429(await handshake(stack, from('198.51.100.20', { cookie: c.cookieHeader })));
    // Positive control: the same user from another address connects.
    expect(await handshake(stack, from('198.51.100.21', { cookie: c.cookieHeader }))).toEqual({ opened: true });
  }, 120_000);
});

describe('WebSocket upgrades at a dev server pace (default limits)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(() => stack?.close());

  it('HMR-style reconnects pass: three tabs of one user reconnecting through a 30-second dev-server restart (one ping a second each) and reloads', async () => {
    const tabs = await Promise.all([0, 1, 2].map(() => stack.launch('hmr-dev', stack.sandboxes.open, 3000)));
    const outcomes: Handshake[] = [];
    // Vite's client pings with a WebSocket once a second while its server is down, then reconnects:
    // 30 pings and a reconnect per tab, the tabs side by side, then each tab reloaded 5 times.
    for (let second = 0; second < 31; second++) outcomes.push(...(await Promise.all(tabs.map((t) => handshake(stack, { cookie: t.cookieHeader })))));
    for (let reload = 0; reload < 5; reload++) for (const t of tabs) outcomes.push(await handshake(stack, { cookie: t.cookieHeader }));
    expect(outcomes).toHaveLength(108);
    expect(outcomes.filter((o) => !o.opened)).toEqual([]);
  }, 300_000);
});
