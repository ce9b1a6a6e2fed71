/**
 * Every log line emitted on behalf of a request carries that request's `rid` (issue 13): the
 * event lines of a refused, limited or revoked request can be joined to its `request` line.
 * The core has no AsyncLocalStorage: the request's child logger (broker/core/ops.ts
 * `requestLog`) is passed to whatever logs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeGateway, type TestGateway } from '../gateway/helpers.js';
import { createRateLimiterFactory } from '../../broker/node/rate-limiter.js';
import { childLogger, createJsonLogger } from '../../broker/core/logger.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.gw.close();
  t = undefined;
});

const linesOf = (rid: string) => t!.logs.filter((l) => l.fields?.rid === rid);
const eventLines = (rid: string) => linesOf(rid).filter((l) => l.event !== 'request');

/** The request's own line and each named event line carry `rid`; nothing of that event is logged without it. */
function expectJoined(rid: string, events: string[]): void {
  const mine = linesOf(rid);
  expect(
    mine.filter((l) => l.event === 'request'),
    `request line of ${rid}`,
  ).toHaveLength(1);
  for (const e of events) {
    expect(
      mine.some((l) => l.event === e),
      `${e} carries rid ${rid}: ${JSON.stringify(t!.logs)}`,
    ).toBe(true);
    expect(
      t!.logs.filter((l) => l.event === e && l.fields?.rid === undefined),
      `${e} line without a rid`,
    ).toEqual([]);
  }
}

describe('event log lines carry the request id of the request they are about', () => {
  it("a rate-limited launch's rate_limited line carries the request's rid (and the client's address)", async () => {
    t = await makeGateway({ limits: { rateLimits: { launch: { user: 1, address: 1000 } } } }, { rateLimiters: createRateLimiterFactory() });
    // Positive control: the first launch passes and logs no rate_limited line.
    const ok = await t.api('/api/previews', {
      method: 'POST',
      user: 'bob',
      headers: { 'x-request-id': 'rid-ok-1' },
      body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000 }),
    });
    expect(ok.status).toBe(201);
    expect(eventLines('rid-ok-1')).toEqual([]);
    const res = await t.api('/api/previews', {
      method: 'POST',
      user: 'bob',
      headers: { 'x-request-id': 'rid-limited-1' },
      body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000 }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-request-id')).toBe('rid-limited-1');
    expectJoined('rid-limited-1', ['rate_limited']);
  });

  it('a generated request id joins the event line to the request line too', async () => {
    t = await makeGateway(
      { limits: { rateLimits: { share: { user: 1000, address: 0 }, launch: { user: 0, address: 1000 } } } },
      { rateLimiters: createRateLimiterFactory() },
    );
    await t.api('/api/previews', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000 }) });
    const second = await t.api('/api/previews', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000 }) });
    const rid = second.headers.get('x-request-id')!;
    expect(rid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    // 1000 per address: nothing limited yet, so no event line for it.
    expect(eventLines(rid)).toEqual([]);
  });

  it('session_revoked, share_revoked and sessions_ended carry the rid of the request that ended them', async () => {
    t = await makeGateway({ serviceToken: 'service-token-service-token-0123456789' });
    const a = await t.launch('bob');
    const del = await t.api(`/api/previews/${a.sessionId}`, { method: 'DELETE', user: 'bob', headers: { 'x-request-id': 'rid-revoke-1' } });
    expect(del.status).toBe(204);
    expectJoined('rid-revoke-1', ['session_revoked']);

    const sh = await t.api('/api/shares', { method: 'POST', user: 'bob', body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000, ttlSeconds: 3600 }) });
    expect(sh.status).toBe(201);
    const { id } = (await sh.json()) as { id: string };
    const delShare = await t.api(`/api/shares/${id}`, { method: 'DELETE', user: 'bob', headers: { 'x-request-id': 'rid-share-1' } });
    expect(delShare.status).toBe(204);
    expectJoined('rid-share-1', ['share_revoked']);

    await t.launch('bob');
    const bulk = await t.api('/api/previews?userId=bob', {
      method: 'DELETE',
      headers: { authorization: 'Bearer service-token-service-token-0123456789', 'x-request-id': 'rid-bulk-1' },
    });
    expect(bulk.status).toBe(200);
    expectJoined('rid-bulk-1', ['sessions_ended']);
  });

  it("a reused refresh credential's refresh_reused line carries the rid of the request that presented it", async () => {
    t = await makeGateway();
    const a = await t.launch('bob');
    const refresh = (token: string, rid: string) =>
      t!.preview('/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-request-id': rid } });
    const first = await refresh(a.grant.refreshToken, 'rid-rotate-1');
    expect(first.status).toBe(200);
    expect(eventLines('rid-rotate-1')).toEqual([]); // positive control: a rotation logs no event
    t.clock.advance(t.gw.config.refreshGraceMs + 1000);
    const again = await refresh(a.grant.refreshToken, 'rid-reuse-1');
    expect(again.status).toBe(401);
    expectJoined('rid-reuse-1', ['refresh_reused']);
  });

  it("an unavailable policy endpoint's policy_unavailable line carries the launch's rid", async () => {
    const policy = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((r) => policy.listen(0, '127.0.0.1', r));
    try {
      const { port } = policy.address() as AddressInfo;
      t = await makeGateway({ policyUrl: `http://127.0.0.1:${port}/policy` });
      const res = await t.api('/api/previews', {
        method: 'POST',
        user: 'bob',
        headers: { 'x-request-id': 'rid-policy-1' },
        body: JSON.stringify({ sandboxId: 'sbx-open', port: 3000 }),
      });
      expect(res.status).toBe(503);
      expectJoined('rid-policy-1', ['policy_unavailable']);
    } finally {
      await new Promise((r) => policy.close(r));
    }
  });

  it('origin_not_allowed and an unhandled error carry the rid of their request', async () => {
    t = await makeGateway({ allowedOrigins: ['https://ide.example.com'] });
    const res = await t.api('/api/cors-check', { headers: { origin: 'https://stranger.example', 'x-request-id': 'rid-origin-1' } });
    expect(res.status).toBe(200);
    expectJoined('rid-origin-1', ['origin_not_allowed']);

    t.upstream.respond = () => {
      throw new Error('boom');
    };
    const a = await t.launch('bob');
    const boom = await t.preview('/', { headers: { cookie: a.cookie, 'x-request-id': 'rid-boom-1' } });
    expect(boom.status).toBe(500);
    expectJoined('rid-boom-1', ['unhandled']);
  });

  it('a refused WebSocket upgrade answers with its request id, and its rate_limited and upgrade lines carry it', async () => {
    t = await makeGateway({ limits: { rateLimits: { upgrade: { user: 1000, address: 1 } } } }, { rateLimiters: createRateLimiterFactory() });
    const handshake = (rid: string) => new Request(`${t!.origin()}/socket`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'x-request-id': rid } });
    // The first spends the address's one point (and is refused for want of a credential).
    const first = await t.gw.authorizeUpgrade(handshake('rid-ws-1'), { clientAddress: '203.0.113.9' });
    expect(first.ok).toBe(false);
    expect(first.requestId).toBe('rid-ws-1');
    expect(t.logs.filter((l) => l.fields?.rid === 'rid-ws-1').map((l) => l.event)).toEqual(['upgrade']);
    const second = await t.gw.authorizeUpgrade(handshake('rid-ws-2'), { clientAddress: '203.0.113.9' });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.response.status).toBe(429);
    expect(second.response.headers.get('x-request-id')).toBe('rid-ws-2');
    const mine = t.logs.filter((l) => l.fields?.rid === 'rid-ws-2');
    expect(mine.map((l) => l.event)).toEqual(['rate_limited', 'upgrade']);
    for (const l of mine) expect(l.fields?.client).toBe('203.0.113.9');
  });

  it('an authorised upgrade passes its request id to the app and hands the edge a logger carrying it', async () => {
    t = await makeGateway();
    const a = await t.launch('bob');
    const d = await t.gw.authorizeUpgrade(
      new Request(`${t.origin()}/socket`, { headers: { upgrade: 'websocket', cookie: a.cookie, origin: t.origin(), 'x-request-id': 'rid-ws-ok' } }),
    );
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.requestId).toBe('rid-ws-ok');
    expect(d.forwardHeaders['x-request-id']).toBe('rid-ws-ok');
    d.log.info('upgrade', { status: 101 });
    expect(t.logs.at(-1)).toEqual({ event: 'upgrade', fields: { rid: 'rid-ws-ok', status: 101 } });
    // A malformed id is replaced, never repeated.
    const bad = await t.gw.authorizeUpgrade(new Request(`${t.origin()}/socket`, { headers: { upgrade: 'websocket', 'x-request-id': 'has space' } }));
    expect(bad.requestId).not.toBe('has space');
  });
});

describe('childLogger', () => {
  it('adds its fields to every line of a JSON logger and of a custom one', () => {
    const lines: string[] = [];
    const log = childLogger(
      createJsonLogger((l) => lines.push(l)),
      { rid: 'r1' },
    );
    log.warn('x', { a: 1 });
    childLogger(log, { client: '198.51.100.1' }).info('y');
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { event: 'x', rid: 'r1', a: 1 },
      { event: 'y', rid: 'r1', client: '198.51.100.1' },
    ]);
    const seen: unknown[] = [];
    const custom = childLogger({ info: (e, f) => seen.push([e, f]), warn() {}, error() {} }, { rid: 'r2' });
    custom.info('z', { b: 2 });
    expect(seen).toEqual([['z', { rid: 'r2', b: 2 }]]);
  });
});
