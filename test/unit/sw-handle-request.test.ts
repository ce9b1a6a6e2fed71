import { describe, expect, it } from 'vitest';
import { createRequestHandler } from '../../sw/worker/handle-request.js';
import { createRenewer } from '../../sw/worker/renew.js';
import { createTokenStore } from '../../sw/worker/token-store.js';
import { grant, jsonResponse, memoryKeyValue } from './sw-fakes.js';

function expired401(): Response {
  return jsonResponse(
    401,
    { error: { code: 'token_expired', message: 'expired' } },
    {
      'www-authenticate': 'Bearer error="invalid_token", error_description="token_expired"',
    },
  );
}

const ORIGIN = 'http://3000-abc.preview.localhost:8787';

/** A fake gateway: `valid` is the set of access tokens it accepts; refresh hands out a2, a3, ... */
function setup(opts: { refresh?: 'ok' | 'revoked' | 'down'; lifetimeMs?: number } = {}) {
  let now = 1_000_000;
  let minted = 1;
  const valid = new Set<string>(['a1']);
  const seen: Request[] = [];
  const refreshes: Request[] = [];
  const dead: string[] = [];
  const fetchFn = async (req: Request): Promise<Response> => {
    if (new URL(req.url).pathname === '/__gate/refresh') {
      refreshes.push(req);
      await new Promise((r) => setTimeout(r, 5));
      if (opts.refresh === 'revoked') return jsonResponse(401, { error: { code: 'session_revoked', message: 'revoked' } });
      if (opts.refresh === 'down') throw new TypeError('network');
      const token = `a${++minted}`;
      valid.clear();
      valid.add(token);
      return jsonResponse(200, { accessToken: token, refreshToken: `r${minted}`, expiresAt: now + 300_000, refreshExpiresAt: now + 9e6 });
    }
    seen.push(req);
    const token = req.headers.get('x-daytona-preview-token');
    if (token === null) return jsonResponse(200, { via: 'cookie', body: req.method === 'GET' ? null : await req.text() });
    if (!valid.has(token)) return expired401();
    return jsonResponse(200, { via: 'token', token, body: req.method === 'GET' ? null : await req.text() });
  };
  const store = createTokenStore(memoryKeyValue());
  const clock = () => now;
  const renewer = createRenewer({ fetch: fetchFn, store, clock, refreshUrl: `${ORIGIN}/__gate/refresh` });
  const handle = createRequestHandler({ fetch: fetchFn, store, renewer, clock, onDead: (c) => dead.push(c) });
  return {
    store,
    handle,
    seen,
    refreshes,
    dead,
    valid,
    tick: (ms: number) => (now += ms),
    init: () => store.write(grant('a1', now, opts.lifetimeMs ?? 300_000)),
  };
}

describe('sw request handling', () => {
  it('without tokens the request passes untouched (cookie path)', async () => {
    const t = setup();
    const res = await t.handle(new Request(`${ORIGIN}/x`));
    expect(await res.json()).toMatchObject({ via: 'cookie' });
  });

  it('attaches the current access token', async () => {
    const t = setup();
    await t.init();
    const res = await t.handle(new Request(`${ORIGIN}/x`));
    expect(await res.json()).toMatchObject({ via: 'token', token: 'a1' });
    expect(t.refreshes).toHaveLength(0);
  });

  it('renews before expiry, once for all concurrent requests', async () => {
    const t = setup();
    await t.init();
    t.tick(290_000); // 10 s left: under the 30 s margin
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.handle(new Request(`${ORIGIN}/x`))));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(t.refreshes).toHaveLength(1);
    expect(bodies.every((b) => b.token === 'a2')).toBe(true);
  });

  it('on 401 token_expired renews once and retries once, resending the body: zero failed requests', async () => {
    const t = setup();
    await t.init();
    t.valid.clear(); // the gateway considers a1 expired already (clock skew)
    t.valid.add('a-unknown');
    const answers = await Promise.all([
      t.handle(new Request(`${ORIGIN}/upload`, { method: 'POST', body: 'payload-1' })),
      t.handle(new Request(`${ORIGIN}/upload`, { method: 'PUT', body: 'payload-2' })),
      t.handle(new Request(`${ORIGIN}/page`)),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(bodies.map((b) => b.body)).toEqual(['payload-1', 'payload-2', null]);
    expect(bodies.map((b) => b.token)).toEqual(['a2', 'a2', 'a2']);
    expect(t.refreshes).toHaveLength(1);
  });

  it('when renewal says revoked: clears the tokens and lets the cookie path answer', async () => {
    const t = setup({ refresh: 'revoked' });
    await t.init();
    t.tick(299_000);
    const res = await t.handle(new Request(`${ORIGIN}/x`));
    expect(await res.json()).toMatchObject({ via: 'cookie' });
    expect(await t.store.read()).toBeUndefined();
    expect(t.dead).toEqual(['session_revoked']);
  });

  it('when the gateway is unreachable for renewal, keeps using a still-valid token', async () => {
    const t = setup({ refresh: 'down' });
    await t.init();
    t.tick(290_000);
    const res = await t.handle(new Request(`${ORIGIN}/x`));
    expect(await res.json()).toMatchObject({ via: 'token', token: 'a1' });
    expect((await t.store.read())?.accessToken).toBe('a1');
  });
});

describe('sw: reading the gateway error code', async () => {
  const { readErrorCode } = await import('../../sw/worker/gate-error.js');
  it('prefers the specific code over RFC 6750 umbrella invalid_token', async () => {
    expect(
      await readErrorCode(
        new Response('', {
          status: 401,
          headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="token_expired: the token expired"' },
        }),
      ),
    ).toBe('token_expired');
    expect(await readErrorCode(new Response('<body data-gate-code="session_revoked">', { status: 401, headers: { 'content-type': 'text/html' } }))).toBe(
      'session_revoked',
    );
    expect(await readErrorCode(jsonResponse(401, { error: { code: 'invalid_session', message: '' } }))).toBe('invalid_session');
    expect(await readErrorCode(new Response('nope', { status: 401 }))).toBeUndefined();
  });
});
