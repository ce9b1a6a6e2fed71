/**
 * Rate limits on launch, code exchange, refresh (POST /__gate/refresh and the server-side cookie
 * renewal), WebSocket tickets and share creation: per user and per client address, against the
 * real gateway (rate-limiter-flexible in memory), the emulator and real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, cookieHeaderOf, type Stack, type StackResponse } from '../support/stack.js';
import { GATE_PATHS } from '../../protocol/index.js';

const json = { 'content-type': 'application/json' };

function expectLimited(res: StackResponse): void {
  expect(res.status).toBe(429);
  expect(res.json<{ error: { code: string; message: string } }>().error.code).toBe('rate_limited');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

async function apiPost(stack: Stack, path: string, user: string, body: unknown, headers: Record<string, string> = {}): Promise<StackResponse> {
  const session = await stack.mintUserSession(user);
  return stack.requestGateway(path, { method: 'POST', headers: { ...json, authorization: `Bearer ${session}`, ...headers }, body: JSON.stringify(body) });
}

describe('rate limits per user', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateway: {
        limits: {
          rateLimits: {
            launch: { user: 3, address: 1000 },
            share: { user: 2, address: 1000 },
            wsTicket: { user: 3, address: 1000 },
            refresh: { user: 2, address: 1000 },
          },
        },
      },
    });
  }, 60_000);
  afterAll(() => stack?.close());

  it('a fourth launch within the window by one user is refused with 429 and Retry-After; another user still launches', async () => {
    const target = { sandboxId: stack.sandboxes.open, port: 3000 };
    for (let i = 0; i < 3; i++) expect((await apiPost(stack, '/api/previews', 'rl-launcher', target)).status).toBe(201);
    expectLimited(await apiPost(stack, '/api/previews', 'rl-launcher', target));
    expect((await apiPost(stack, '/api/previews', 'rl-other', target)).status).toBe(201);
  });

  it('a third share link within the window by one user is refused; another user still shares', async () => {
    const body = { sandboxId: stack.sandboxes.open, port: 3000, ttlSeconds: 600 };
    for (let i = 0; i < 2; i++) expect((await apiPost(stack, '/api/shares', 'rl-sharer', body)).status).toBe(201);
    expectLimited(await apiPost(stack, '/api/shares', 'rl-sharer', body));
    expect((await apiPost(stack, '/api/shares', 'rl-sharer-2', body)).status).toBe(201);
  });

  it('WebSocket tickets beyond the limit for one session are refused; a session of another user still gets one', async () => {
    const a = await stack.launch('rl-ticket', stack.sandboxes.open, 3000);
    const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
    const ticket = (grant: string) =>
      stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.wsTicket, { method: 'POST', headers: { origin, 'x-daytona-preview-token': grant } });
    for (let i = 0; i < 3; i++) expect((await ticket(a.grant.accessToken)).status).toBe(200);
    expectLimited(await ticket(a.grant.accessToken));
    const b = await stack.launch('rl-ticket-2', stack.sandboxes.open, 3000);
    expect((await ticket(b.grant.accessToken)).status).toBe(200);
  });

  it('refresh rotations beyond the limit for one user are refused; repeats inside the grace window cost nothing', async () => {
    const l = await stack.launch('rl-refresh', stack.sandboxes.open, 3000);
    const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
    const refresh = (token: string) =>
      stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.refresh, { method: 'POST', headers: { origin, authorization: `Bearer ${token}` } });
    // 10 concurrent renewals with one credential: one rotation, nine grace answers, all 200.
    const burst = await Promise.all(Array.from({ length: 10 }, () => refresh(l.grant.refreshToken)));
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    const next = burst[0]!.json<{ refreshToken: string }>().refreshToken;
    expect(new Set(burst.map((r) => r.json<{ refreshToken: string }>().refreshToken)).size).toBe(1);
    const second = await refresh(next);
    expect(second.status).toBe(200);
    expectLimited(await refresh(second.json<{ refreshToken: string }>().refreshToken));
  });
});

describe('rate limits per client address', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      gateway: {
        trustedProxies: ['127.0.0.1', '::1'],
        limits: {
          rateLimits: { launch: { user: 1000, address: 4 }, exchange: { address: 3 }, refresh: { user: 1000, address: 3 }, share: { user: 1000, address: 2 } },
        },
      },
    });
  }, 60_000);
  afterAll(() => stack?.close());

  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('launches from one address by many users are refused past the limit; another address is not affected', async () => {
    const target = { sandboxId: stack.sandboxes.open, port: 3000 };
    for (let i = 0; i < 4; i++) expect((await apiPost(stack, '/api/previews', `addr-user-${i}`, target, from('203.0.113.1'))).status).toBe(201);
    expectLimited(await apiPost(stack, '/api/previews', 'addr-user-9', target, from('203.0.113.1')));
    expect((await apiPost(stack, '/api/previews', 'addr-user-9', target, from('203.0.113.2'))).status).toBe(201);
  });

  it('bad launch codes from one address are refused 429 after the limit, before the code is even looked at', async () => {
    const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
    const exchange = (code: string, address: string) =>
      stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.session, {
        method: 'POST',
        headers: { ...json, origin, ...from(address) },
        body: JSON.stringify({ code }),
      });
    for (let i = 0; i < 3; i++) expect((await exchange(`bad-${i}`, '198.51.100.7')).status).toBe(401);
    expectLimited(await exchange('bad-x', '198.51.100.7'));
    expect((await exchange('bad-y', '198.51.100.8')).status).toBe(401);
  });

  it('bad refresh credentials from one address are refused 429 after the limit, also as cookies on app paths', async () => {
    const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
    const refresh = (address: string) =>
      stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.refresh, {
        method: 'POST',
        headers: { origin, authorization: 'Bearer not-a-credential', ...from(address) },
      });
    for (let i = 0; i < 3; i++) expect((await refresh('192.0.2.44')).status).toBe(401);
    expectLimited(await refresh('192.0.2.44'));
    // The server-side renewal counts against the same window.
    const renewal = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', {
      headers: { cookie: '__Host-pg-refresh=l.not-a-credential-but-long-enough', ...from('192.0.2.44') },
    });
    expectLimited(renewal);
    expect((await refresh('192.0.2.45')).status).toBe(401);
  });

  it('share creation from one address is refused past the limit', async () => {
    const body = { sandboxId: stack.sandboxes.open, port: 3000, ttlSeconds: 600 };
    for (let i = 0; i < 2; i++) expect((await apiPost(stack, '/api/shares', `s-${i}`, body, from('203.0.113.50'))).status).toBe(201);
    expectLimited(await apiPost(stack, '/api/shares', 's-9', body, from('203.0.113.50')));
    expect((await apiPost(stack, '/api/shares', 's-9', body, from('203.0.113.51'))).status).toBe(201);
  });
});

describe('X-Forwarded-For is believed only from trusted proxies', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateway: { limits: { rateLimits: { launch: { user: 1000, address: 2 } } } } });
  }, 60_000);
  afterAll(() => stack?.close());

  it('a client rotating X-Forwarded-For values is still counted by its socket address and refused', async () => {
    const target = { sandboxId: stack.sandboxes.open, port: 3000 };
    expect((await apiPost(stack, '/api/previews', 'x1', target, { 'x-forwarded-for': '10.9.9.1' })).status).toBe(201);
    expect((await apiPost(stack, '/api/previews', 'x2', target, { 'x-forwarded-for': '10.9.9.2' })).status).toBe(201);
    expectLimited(await apiPost(stack, '/api/previews', 'x3', target, { 'x-forwarded-for': '10.9.9.3' }));
  });
});

describe('default limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(() => stack?.close());

  it('a page load of 60 subresources renewing one expired cookie at once is served in full', async () => {
    const l = await stack.launch('page-loader', stack.sandboxes.open, 3000);
    const refreshOnly = cookieHeaderOf(l.setCookies.filter((c) => c.startsWith('__Host-pg-refresh=')));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        stack.requestPreview(stack.sandboxes.open, 3000, `/api/echo?i=${i}`, {
          headers: { cookie: refreshOnly, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors' },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(200));
  });

  it('launches, exchanges and tickets at an IDE pace (20 previews opened in a row) are not limited', async () => {
    for (let i = 0; i < 20; i++) {
      const l = await stack.launch('busy-dev', stack.sandboxes.open, 3000);
      const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
      const t = await stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.wsTicket, {
        method: 'POST',
        headers: { origin, 'x-daytona-preview-token': l.grant.accessToken },
      });
      expect(t.status).toBe(200);
    }
  });
});
