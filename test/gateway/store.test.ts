import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../broker/core/store/memory.js';

describe('in-memory store', () => {
  it('consumes a launch code exactly once, even when asked concurrently', async () => {
    const now = 1000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.putLaunchCode({ hash: 'h', sessionId: 's', path: '/', expiresAt: now + 60_000 });
    const results = await Promise.all([s.consumeLaunchCode('h', now), s.consumeLaunchCode('h', now), s.consumeLaunchCode('h', now)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });
  it('refuses an expired code and sweeps expired records', async () => {
    let now = 1000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.putLaunchCode({ hash: 'h', sessionId: 's', path: '/', expiresAt: now + 60_000 });
    await s.putWsTicket({ hash: 't', sessionId: 's', userId: 'u', kind: 'session', sandboxId: 'x', port: 1, expiresAt: now + 30_000 });
    await s.revoke('sid:s', now + 10);
    now += 61_000;
    expect(await s.consumeLaunchCode('h', now)).toBeNull();
    expect(await s.isRevoked('sid:s')).toBe(false);
    expect(await s.sweep(now)).toBeGreaterThanOrEqual(2);
  });
  it('rotates a refresh credential once; the loser sees the winner', async () => {
    const now = 1000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.putRefresh({ hash: 'r0', sessionId: 's', generation: 0, expiresAt: now + 1e6 });
    const [a, b] = await Promise.all([
      s.rotateRefresh('r0', { hash: 'r1', sessionId: 's', generation: 1, expiresAt: now + 1e6 }, 'sealed-1', now),
      s.rotateRefresh('r0', { hash: 'r1b', sessionId: 's', generation: 1, expiresAt: now + 1e6 }, 'sealed-2', now),
    ]);
    expect(a.status).toBe('rotated');
    expect(b).toMatchObject({ status: 'already_rotated', record: { successorSealed: 'sealed-1', successorHash: 'r1' } });
    expect(await s.getRefresh('r1b')).toBeNull();
  });
  it("lists a creator's shares with use counts", async () => {
    const now = 1000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await s.putShare({ id: 'a', creatorId: 'u', sandboxId: 'x', port: 3000, createdAt: now, expiresAt: now + 1e6, useCount: 0 });
    await s.putShare({ id: 'b', creatorId: 'v', sandboxId: 'x', port: 3000, createdAt: now, expiresAt: now + 1e6, useCount: 0 });
    await s.touchShare('a', now + 5);
    expect(await s.listShares('u', 'x')).toEqual([expect.objectContaining({ id: 'a', useCount: 1, lastUsedAt: now + 5 })]);
  });
  it('claims slots up to a limit, frees them on release and on expiry, lists the live ones', async () => {
    let now = 1000;
    const s = createMemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    expect(await s.claimSlot('cap:u', 'a', 2, now + 100, now)).toBe(true);
    expect(await s.claimSlot('cap:u', 'b', 2, now + 10_000, now)).toBe(true);
    expect(await s.claimSlot('cap:u', 'c', 2, now + 10_000, now)).toBe(false);
    expect(await s.claimSlot('cap:u', 'a', 2, now + 200, now)).toBe(true); // already in: refreshed, not refused
    expect((await s.listSlots('cap:u', now)).sort()).toEqual(['a', 'b']);
    await s.releaseSlot('cap:u', 'b');
    expect(await s.claimSlot('cap:u', 'c', 2, now + 10_000, now)).toBe(true);
    now += 500; // 'a' expired
    expect(await s.listSlots('cap:u', now)).toEqual(['c']);
    expect(await s.claimSlot('cap:u', 'd', 2, now + 10_000, now)).toBe(true);
  });
});
