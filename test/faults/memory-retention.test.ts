/**
 * Memory the gateway keeps must be bounded by what is live, not by what ever happened: the
 * 10-minute soak's heap snapshots (README "Reliability and security") found two things growing
 * with every launch: the in-memory store kept every session's records for 12 hours, revoked or
 * not (~3.5 KB each), and every Sandbox object the Daytona SDK made stayed subscribed to
 * Daytona's events, held by the SDK for 5 minutes (~12 KB each). These tests fail without the
 * fixes (broker/core/store/memory.ts, broker/node/daytona-sdk.ts#releaseSandboxObject).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Daytona } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { createDaytonaPort } from '../../broker/node/daytona-sdk.js';
import { createMemoryStore, DEFAULT_RETAIN_REVOKED_MS } from '../../broker/core/store/memory.js';
import type { PreviewSessionRecord, Store } from '../../broker/core/store/store.js';
import { startStack } from '../support/stack.js';
import { movableClock } from '../support/clock.js';
import { GATE_PATHS } from '../../protocol/index.js';

const END = 12 * 3600_000;

function session(id: string, now: number, extra: Partial<PreviewSessionRecord> = {}): PreviewSessionRecord {
  return {
    id,
    userId: 'u',
    kind: 'session',
    sandboxId: 'sbx',
    port: 3000,
    origin: 'http://3000-sbx.preview.localhost',
    cookieMode: 'lax',
    createdAt: now,
    expiresAt: now + END,
    ...extra,
  };
}

/** A session as the soak makes it: exchanged, two chains, three rotations. */
async function usedSession(s: Store, id: string, now: number): Promise<void> {
  await s.putSession(session(id, now));
  for (const [chain, rotations] of [
    ['w', 2],
    ['c', 1],
  ] as const) {
    await s.putRefresh({ hash: `${id}:${chain}0`, sessionId: id, generation: 0, expiresAt: now + END });
    for (let g = 1; g <= rotations; g++) {
      await s.rotateRefresh(`${id}:${chain}${g - 1}`, { hash: `${id}:${chain}${g}`, sessionId: id, generation: g, expiresAt: now + END }, 'x'.repeat(120), now);
    }
  }
}

describe('the in-memory store forgets what nothing can use any more', () => {
  it('a revoked session leaves the store after the retention (records and every refresh credential); its revocation marker stays until its end', async () => {
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await usedSession(s, 'gone', now);
    await usedSession(s, 'kept', now); // positive control: a live session is untouched
    await s.revoke('sid:gone', now + END);
    // Within the retention: everything still reads (the page learns `session_revoked`, the embed `revoked`).
    now += DEFAULT_RETAIN_REVOKED_MS - 1;
    expect(await s.getSession('gone')).not.toBeNull();
    expect(await s.getRefresh('gone:w2')).not.toBeNull();
    now += 2;
    await s.sweep(now);
    expect(await s.getSession('gone')).toBeNull();
    for (const h of ['gone:w0', 'gone:w1', 'gone:w2', 'gone:c0', 'gone:c1']) expect(await s.getRefresh(h)).toBeNull();
    expect(await s.isRevoked('sid:gone')).toBe(true); // every access token still meets it
    expect(await s.getSession('kept')).not.toBeNull();
    for (const h of ['kept:w0', 'kept:w2', 'kept:c1']) expect(await s.getRefresh(h)).not.toBeNull();
    expect(await s.isRevoked('sid:kept')).toBe(false);
  });

  it('a revoked session is gone at the first read past the retention, without waiting for a sweep', async () => {
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0, retainRevokedMs: 5000 });
    await usedSession(s, 'a', now);
    await s.revoke('sid:a', now + END);
    now += 5001;
    expect(await s.getRefresh('a:c1')).toBeNull();
    expect(await s.getSession('a')).toBeNull();
  });

  it('a launch never exchanged leaves with its code; an exchanged one stays', async () => {
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.putSession(session('never', now));
    await s.putLaunchCode({ hash: 'c-never', sessionId: 'never', path: '/', expiresAt: now + 60_000 });
    await s.putSession(session('opened', now));
    await s.putLaunchCode({ hash: 'c-opened', sessionId: 'opened', path: '/', expiresAt: now + 60_000 });
    expect(await s.consumeLaunchCode('c-opened', now)).not.toBeNull();
    await s.putRefresh({ hash: 'opened:0', sessionId: 'opened', generation: 0, expiresAt: now + END });
    now += 60_001;
    await s.sweep(now);
    expect(await s.getSession('never')).toBeNull();
    expect(await s.getSession('opened')).not.toBeNull();
    // The same through a late exchange attempt instead of the sweep.
    await s.putSession(session('late', now));
    await s.putLaunchCode({ hash: 'c-late', sessionId: 'late', path: '/', expiresAt: now + 60_000 });
    now += 60_001;
    expect(await s.consumeLaunchCode('c-late', now)).toBeNull();
    expect(await s.getSession('late')).toBeNull();
  });

  it("a revoked share link's record and the sessions opened through it leave after the retention; its marker stays", async () => {
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    for (const id of ['revoked', 'live']) {
      await s.putShare({ id, creatorId: 'u', sandboxId: 'sbx', port: 3000, createdAt: now, expiresAt: now + 86_400_000, useCount: 0 });
      await s.putSession(session(`via-${id}`, now, { userId: `share:${id}`, kind: 'share', shareId: id }));
      await s.putRefresh({ hash: `via-${id}:0`, sessionId: `via-${id}`, generation: 0, expiresAt: now + END });
    }
    expect((await s.revokeShare('revoked', now))?.revokedAt).toBe(now);
    await s.revoke('shr:revoked', now + 86_400_000);
    expect((await s.listShares('u')).map((x) => x.id).sort()).toEqual(['live', 'revoked']); // listed as revoked for a while
    now += DEFAULT_RETAIN_REVOKED_MS + 1;
    await s.sweep(now);
    expect(await s.getShare('revoked')).toBeNull();
    expect(await s.getSession('via-revoked')).toBeNull();
    expect(await s.getRefresh('via-revoked:0')).toBeNull();
    expect(await s.isRevoked('shr:revoked')).toBe(true);
    expect(await s.getShare('live')).not.toBeNull();
    expect(await s.getSession('via-live')).not.toBeNull();
    expect((await s.listShares('u')).map((x) => x.id)).toEqual(['live']);
  });

  it('20,000 sessions opened, used and revoked leave under 400 bytes each on the heap (the revocation markers), not ~3.5 KB', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    const measure = async (n: number, revoke: boolean) => {
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < n; i++) {
        const id = `${revoke ? 'r' : 'l'}${i}-${'x'.repeat(16)}`;
        await usedSession(s, id, now);
        if (revoke) await s.revoke(`sid:${id}`, now + END);
      }
      now += DEFAULT_RETAIN_REVOKED_MS + 1;
      await s.sweep(now);
      gc();
      return (process.memoryUsage().heapUsed - before) / n;
    };
    const perRevoked = await measure(20_000, true);
    // Positive control: live sessions are all kept, so the same measure sees them.
    const perLive = await measure(5_000, false);
    expect(perRevoked).toBeLessThan(400);
    expect(perLive).toBeGreaterThan(1000);
    expect(await s.getSession(`l0-${'x'.repeat(16)}`)).not.toBeNull();
  }, 180_000);
});

describe('a revoked session through the gateway (memory store, moving clock)', () => {
  it('every access token minted before the revocation is refused session_revoked for its whole life, after the records left; its refresh credential stays dead', async () => {
    const clock = movableClock();
    const stack = await startStack({ clock: clock.now });
    try {
      const l = await stack.launch('retired', stack.sandboxes.open, 3000);
      const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
      const withToken = () => stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { 'x-daytona-preview-token': l.grant.accessToken } });
      const refresh = () =>
        stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.refresh, {
          method: 'POST',
          headers: { origin, authorization: `Bearer ${l.grant.refreshToken}` },
        });
      expect((await withToken()).status).toBe(200); // positive control
      const del = await stack.requestGateway(`/api/previews/${l.sessionId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${await stack.mintUserSession('retired')}` },
      });
      expect(del.status).toBe(204);
      expect((await refresh()).json<{ error: { code: string } }>().error.code).toBe('session_revoked');
      clock.advance(DEFAULT_RETAIN_REVOKED_MS + 1000); // the records have left the store
      const status = await stack.requestGateway(`/api/previews/${l.sessionId}`, {
        headers: { authorization: `Bearer ${await stack.mintUserSession('retired')}` },
      });
      expect(status.status).toBe(404);
      const late = await refresh();
      expect(late.status).toBe(401);
      expect(late.json<{ error: { code: string } }>().error.code).toBe('invalid_session');
      // The access token (5 min) still meets the marker to its last second.
      expect((await withToken()).json<{ error: { code: string } }>().error.code).toBe('session_revoked');
      clock.advance(l.grant.expiresAt - clock.now() - 1500);
      const last = await withToken();
      expect(last.status).toBe(401);
      expect(last.json<{ error: { code: string } }>().error.code).toBe('session_revoked');
    } finally {
      await stack.close();
    }
  }, 60_000);

  it('the marker outlives the records by one access-token lifetime and then leaves too (not 12 hours)', async () => {
    let now = 1_000_000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0, accessTtlMs: 300_000 });
    await s.revoke('sid:x', now + END);
    await s.revoke('shr:y', now + END); // a share link's marker is its only trace: kept to its end
    now += DEFAULT_RETAIN_REVOKED_MS + 300_000;
    expect(await s.isRevoked('sid:x')).toBe(true);
    now += 1001;
    expect(await s.isRevoked('sid:x')).toBe(false);
    expect(await s.isRevoked('shr:y')).toBe(true);
  });
});

describe('the Daytona SDK adapter keeps no Sandbox objects it does not use', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("200 launches' sandbox reads leave one event subscription per cached sandbox, not one per read", async () => {
    const client = new Daytona({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' });
    // The SDK's own registry of subscriptions (what held every Sandbox object for 5 minutes).
    const subscriptions = () =>
      (client as unknown as { eventSubscriptionManager: { subscriptions: Map<string, unknown> } }).eventSubscriptionManager.subscriptions.size;
    const port = createDaytonaPort({ client });
    try {
      const a = await emulator.createSandbox({});
      const b = await emulator.createSandbox({});
      const stopped = await emulator.createSandbox({});
      await emulator.stopSandbox(stopped.id);
      const before = subscriptions();
      for (let i = 0; i < 100; i++) {
        expect((await port.getSandbox(i % 2 ? a.id : b.id))?.id).toBeTruthy();
        await port.getSignedPreviewLink!(i % 2 ? a.id : b.id, 3000, 900);
      }
      await port.startSandbox(stopped.id);
      expect((await port.getSandbox(stopped.id))?.state).toBe('started');
      // Two cached sandboxes plus the started one's cached object: at most 3 stay subscribed.
      expect(subscriptions() - before).toBeLessThanOrEqual(3);
      // Positive control: the SDK on its own keeps one subscription per object it made.
      const raw = subscriptions();
      for (let i = 0; i < 20; i++) await client.get(a.id);
      expect(subscriptions() - raw).toBe(20);
    } finally {
      await port.close();
    }
  }, 60_000);
});
