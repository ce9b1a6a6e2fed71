/**
 * The worker's sibling-origin path (sw/worker/sibling-origins.ts): which requests are candidates,
 * that a sibling's token goes to its own origin only (never to an origin outside the grant), and
 * renewal on `token_expired`. The browser side of this runs in test/e2e/multi-port.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createRenewer } from '../../sw/worker/renew.js';
import { createSiblingHandler, isSiblingCandidate, siblingPortOf } from '../../sw/worker/sibling-origins.js';
import { createTokenStore, type StoredGrant } from '../../sw/worker/token-store.js';
import { jsonResponse, memoryKeyValue } from './sw-fakes.js';

const SELF = { protocol: 'http:', host: '3000-abc.preview.localhost:8787' };
const MAIN = `http://${SELF.host}`;
const API = 'http://8000-abc.preview.localhost:8787';

describe('sibling candidates', () => {
  it('the same sandbox on another port, same scheme and gateway port, is a candidate; anything else is not', () => {
    expect(siblingPortOf(new URL(`${API}/x`), SELF)).toBe(8000);
    expect(siblingPortOf(new URL('ws://8000-abc.preview.localhost:8787/ws'), SELF)).toBe(8000);
    for (const other of [
      `${MAIN}/x`, // itself
      'http://8000-abd.preview.localhost:8787/x', // another sandbox
      'http://8000-abc.preview.localhost:9999/x', // another gateway port
      'https://8000-abc.preview.localhost:8787/x', // another scheme
      'wss://8000-abc.preview.localhost:8787/ws',
      'http://8000-abc.evil.example:8787/x', // another domain
      'http://evil.example/x',
    ])
      expect(siblingPortOf(new URL(other), SELF), other).toBeNull();
  });

  it('only cors-mode requests outside /__gate/, not media or Range, are taken', () => {
    const req = (url: string, init: { mode?: RequestMode; headers?: Record<string, string>; destination?: string } = {}) => ({
      url,
      mode: init.mode ?? 'cors',
      headers: new Headers(init.headers),
      destination: init.destination ?? '',
    });
    expect(isSiblingCandidate(req(`${API}/api/hello`), SELF)).toBe(true);
    expect(isSiblingCandidate(req(`${API}/api/hello`, { mode: 'no-cors' }), SELF)).toBe(false);
    expect(isSiblingCandidate(req(`${API}/__gate/session`), SELF)).toBe(false);
    expect(isSiblingCandidate(req(`${API}/v.mp4`, { destination: 'video' }), SELF)).toBe(false);
    expect(isSiblingCandidate(req(`${API}/f`, { headers: { range: 'bytes=0-1' } }), SELF)).toBe(false);
    expect(isSiblingCandidate(req(`${MAIN}/api`), SELF)).toBe(false);
  });
});

function setup(siblings: StoredGrant['siblings']) {
  const now = 1_000_000;
  const seen: Request[] = [];
  let refreshes = 0;
  let valid = 's1';
  const fetchFn = async (req: Request): Promise<Response> => {
    if (new URL(req.url).pathname === '/__gate/refresh') {
      refreshes++;
      valid = 's2';
      return jsonResponse(200, {
        accessToken: 'm2',
        refreshToken: 'r2',
        expiresAt: now + 300_000,
        refreshExpiresAt: now + 9e6,
        siblings: [{ origin: API, port: 8000, accessToken: 's2', expiresAt: now + 300_000 }],
      });
    }
    seen.push(req);
    const token = req.headers.get('x-daytona-preview-token');
    if (token === null) return jsonResponse(200, { via: 'none' });
    if (token !== valid) return jsonResponse(401, { error: { code: 'token_expired', message: 'expired' } });
    return jsonResponse(200, { via: token });
  };
  const kv = memoryKeyValue();
  const store = createTokenStore(kv);
  const grant: StoredGrant = {
    accessToken: 'm1',
    refreshToken: 'r1',
    expiresAt: now + 300_000,
    refreshExpiresAt: now + 9e6,
    receivedAt: now,
    ...(siblings ? { siblings } : {}),
  };
  void store.write(grant);
  const renewer = createRenewer({ fetch: fetchFn, store, clock: () => now, refreshUrl: `${MAIN}/__gate/refresh` });
  const handle = createSiblingHandler({ fetch: fetchFn, store, renewer, clock: () => now });
  return { handle, seen, refreshes: () => refreshes, now };
}

describe('sibling tokens', () => {
  it('a granted sibling gets its own token (never the main one), credentials mode kept, redirect kept manual', async () => {
    const s = setup([{ origin: API, port: 8000, accessToken: 's1', expiresAt: 1_300_000 }]);
    const res = await s.handle(new Request(`${API}/api/hello`, { credentials: 'include' }));
    expect(await res.json()).toEqual({ via: 's1' });
    expect(s.seen[0]!.headers.get('x-daytona-preview-token')).toBe('s1');
    expect(s.seen[0]!.credentials).toBe('include');
    expect(s.seen[0]!.redirect).toBe('manual');
  });

  it('an origin outside the grant gets no token at all (the request goes out untouched)', async () => {
    const s = setup([{ origin: API, port: 8000, accessToken: 's1', expiresAt: 1_300_000 }]);
    await s.handle(new Request('http://5000-abc.preview.localhost:8787/api/hello'));
    expect(s.seen[0]!.headers.has('x-daytona-preview-token')).toBe(false);
    const one = setup(undefined); // a one-port grant
    await one.handle(new Request(`${API}/api/hello`));
    expect(one.seen[0]!.headers.has('x-daytona-preview-token')).toBe(false);
  });

  it('token_expired from the sibling renews the main grant once and retries with the fresh sibling token, body kept', async () => {
    const s = setup([{ origin: API, port: 8000, accessToken: 'stale', expiresAt: 1_300_000 }]);
    const res = await s.handle(new Request(`${API}/api/echo`, { method: 'POST', body: '{"n":1}' }));
    expect(await res.json()).toEqual({ via: 's2' });
    expect(s.refreshes()).toBe(1);
    expect(s.seen.map((r) => r.headers.get('x-daytona-preview-token'))).toEqual(['stale', 's2']);
    expect(await s.seen[1]!.text()).toBe('{"n":1}');
  });
});
