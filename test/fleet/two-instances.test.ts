/**
 * Two gateway processes sharing one real Redis behind a round-robin TCP balancer
 * (test/fleet/support/fleet.ts): every piece of a preview's life may land on either instance,
 * and a revocation on one reaches the other within a second. Then both restart (SIGTERM,
 * drain, new processes): what was issued before still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable } from '../support/redis.js';
import { mintUserSession, previewOrigin } from './support/client.js';
import { startFleet, type Fleet } from './support/fleet.js';

const APP = 3000;
let fleet: Fleet;
let session: string;

beforeAll(async () => {
  fleet = await startFleet(2);
  session = await mintUserSession(fleet.userSecret, 'bob');
}, 180_000);
afterAll(async () => fleet?.close(), 60_000);

const token = (t: string) => ({ headers: { 'x-daytona-preview-token': t } });

/** Polls `probe` every 25 ms until it returns true; the elapsed ms, or Infinity after `ms`. */
async function within(ms: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  return Infinity;
}

describe.skipIf(!redisAvailable())('two instances, one Redis', () => {
  it('a launch code minted on A is exchanged on B, once; the access token works on both', async () => {
    const [a, b] = [fleet.client(0), fleet.client(1)];
    const { code } = await a.createPreview(session, fleet.sandboxId, APP);
    const exchanged = await b.exchange(fleet.sandboxId, APP, code);
    expect(exchanged.status).toBe(200);
    const again = await a.exchange(fleet.sandboxId, APP, code);
    expect(again.status).toBe(401); // consume-once holds across instances
    expect(again.json()).toMatchObject({ error: { code: 'invalid_code' } });
    const { accessToken } = exchanged.json<{ accessToken: string }>();
    for (const c of [a, b]) expect((await c.preview(fleet.sandboxId, APP, '/api/echo', token(accessToken))).status).toBe(200);
  });

  it('a refresh chain rotates alternately on A and B', async () => {
    const clients = [fleet.client(0), fleet.client(1)];
    const { grant } = await clients[0]!.launch(session, fleet.sandboxId, APP);
    let refresh = grant.refreshToken;
    const seen = new Set([refresh]);
    for (let i = 1; i <= 6; i++) {
      const res = await clients[i % 2]!.refresh(fleet.sandboxId, APP, refresh);
      expect(res.status, res.text).toBe(200);
      const next = res.json<{ refreshToken: string; accessToken: string }>();
      expect(seen.has(next.refreshToken)).toBe(false);
      seen.add(next.refreshToken);
      refresh = next.refreshToken;
      expect((await clients[(i + 1) % 2]!.preview(fleet.sandboxId, APP, '/api/echo', token(next.accessToken))).status).toBe(200);
    }
  });

  it('a session revoked on A is refused on B within one second (and worked on B just before)', async () => {
    const [a, b] = [fleet.client(0), fleet.client(1)];
    const { grant, sessionId } = await a.launch(session, fleet.sandboxId, APP);
    expect((await b.preview(fleet.sandboxId, APP, '/api/echo', token(grant.accessToken))).status).toBe(200);
    const revoked = await a.gateway(`/api/previews/${sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${session}` } });
    expect(revoked.status).toBe(204);
    const ms = await within(1_000, async () => (await b.preview(fleet.sandboxId, APP, '/api/echo', token(grant.accessToken))).status === 401);
    expect(ms).toBeLessThan(1_000);
    console.log(`[fleet] revoked on A, refused on B after ${ms} ms (polling every 25 ms)`);
    const refused = await b.preview(fleet.sandboxId, APP, '/api/echo', token(grant.accessToken));
    expect(refused.json()).toMatchObject({ error: { code: 'session_revoked' } });
    expect((await b.refresh(fleet.sandboxId, APP, grant.refreshToken)).status).toBe(401);
  });

  it('a share link made on A works on B; revoked on B, it is refused on A within one second', async () => {
    const [a, b] = [fleet.client(0), fleet.client(1)];
    const made = await a.gateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: fleet.sandboxId, port: APP, ttlSeconds: 3600 }),
    });
    expect(made.status).toBe(201);
    const { id, url } = made.json<{ id: string; url: string }>();
    expect(url.startsWith(previewOrigin(fleet.sandboxId, APP, fleet.lb.port))).toBe(true);
    const path = new URL(url).pathname + new URL(url).search;
    expect((await b.preview(fleet.sandboxId, APP, path)).status).toBe(200);
    const listed = await b.gateway(`/api/shares?sandboxId=${fleet.sandboxId}`, { headers: { authorization: `Bearer ${session}` } });
    expect(listed.json<{ shares: { id: string }[] }>().shares.map((s) => s.id)).toContain(id);
    expect((await b.gateway(`/api/shares/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${session}` } })).status).toBe(204);
    const ms = await within(1_000, async () => (await a.preview(fleet.sandboxId, APP, path)).status !== 200);
    expect(ms).toBeLessThan(1_000);
    expect((await a.preview(fleet.sandboxId, APP, path)).json()).toMatchObject({ error: { code: 'share_revoked' } });
  });

  it('through the balancer, requests alternate between the instances and all succeed', async () => {
    const lb = fleet.viaBalancer();
    const { grant } = await lb.launch(session, fleet.sandboxId, APP);
    const before = [...fleet.lb.connections];
    for (let i = 0; i < 10; i++) expect((await lb.preview(fleet.sandboxId, APP, '/api/echo', token(grant.accessToken))).status).toBe(200);
    expect(fleet.lb.connections[0]! - before[0]!).toBeGreaterThanOrEqual(4);
    expect(fleet.lb.connections[1]! - before[1]!).toBeGreaterThanOrEqual(4);
    const kids = await Promise.all(
      [0, 1].map(async (i) => (await fleet.client(i).gateway('/.well-known/jwks.json')).json<{ keys: { kid: string }[] }>().keys[0]!.kid),
    );
    expect(kids[0]).toBe(kids[1]); // one key set for the fleet
  });

  it('after both instances restart, sessions, refresh chains, share links and keys issued before still work', async () => {
    const a = fleet.client(0);
    const { grant } = await a.launch(session, fleet.sandboxId, APP);
    const made = await a.gateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: fleet.sandboxId, port: APP, ttlSeconds: 3600 }),
    });
    const shareUrl = new URL(made.json<{ url: string }>().url);
    const kid = (await a.gateway('/.well-known/jwks.json')).json<{ keys: { kid: string }[] }>().keys[0]!.kid;

    await fleet.restart(0);
    await fleet.restart(1);

    for (const i of [0, 1]) {
      const c = fleet.client(i);
      expect((await c.preview(fleet.sandboxId, APP, '/api/echo', token(grant.accessToken))).status).toBe(200);
      expect((await c.preview(fleet.sandboxId, APP, shareUrl.pathname + shareUrl.search)).status).toBe(200);
      expect((await c.gateway('/.well-known/jwks.json')).json<{ keys: { kid: string }[] }>().keys.map((k) => k.kid)).toContain(kid);
    }
    const renewed = await fleet.client(1).refresh(fleet.sandboxId, APP, grant.refreshToken);
    expect(renewed.status, renewed.text).toBe(200);
    // Negative control beside it: a made-up refresh credential is still refused after the restart.
    expect((await fleet.client(0).refresh(fleet.sandboxId, APP, 'x'.repeat(43))).status).toBe(401);
  }, 120_000);
});
