/**
 * Caps on what one user keeps alive (live preview sessions, share links), and the per-user /
 * per-sandbox session indexes the caps maintain; real gateway, emulator and sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackResponse } from '../support/stack.js';
import { GATE_PATHS } from '../../protocol/index.js';
import { sandboxSessionsKey, userSessionsKey, userSharesKey } from '../../broker/core/limits/limits.js';
import { movableClock } from '../support/clock.js';

const json = { 'content-type': 'application/json' };
const code = (r: StackResponse) => r.json<{ error: { code: string; message: string } }>().error;

describe('caps per user', () => {
  let stack: Stack;
  const clock = movableClock();
  beforeAll(async () => {
    stack = await startStack({ clock: clock.now, gateway: { limits: { maxSessionsPerUser: 3, maxSharesPerUser: 2, rateLimits: false } } });
  }, 60_000);
  afterAll(() => stack?.close());

  const api = async (method: string, path: string, user: string, body?: unknown) =>
    stack.requestGateway(path, {
      method,
      headers: { ...json, authorization: `Bearer ${await stack.mintUserSession(user)}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const store = () => stack.gateway.app.store;

  it('a launch past the cap on live sessions is refused 409 too_many_sessions saying what to end; ending one lets the next in', async () => {
    const s = stack.sandboxes.open;
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await stack.launch('capped', s, 3000));
    const over = await api('POST', '/api/previews', 'capped', { sandboxId: s, port: 3000 });
    expect(over.status).toBe(409);
    expect(code(over).code).toBe('too_many_sessions');
    expect(code(over).message).toMatch(/DELETE \/api\/previews/);
    // Another user is not affected.
    expect((await api('POST', '/api/previews', 'uncapped', { sandboxId: s, port: 3000 })).status).toBe(201);
    expect((await api('DELETE', `/api/previews/${sessions[0]!.sessionId}`, 'capped')).status).toBe(204);
    const again = await stack.launch('capped', s, 3000);
    expect(again.sessionId).toBeTruthy();
    // Logout frees a slot too.
    const origin = stack.previewOrigin(s, 3000);
    const out = await stack.requestPreview(s, 3000, GATE_PATHS.logout, { method: 'POST', headers: { origin, cookie: again.cookieHeader } });
    expect(out.status).toBe(204);
    expect((await api('POST', '/api/previews', 'capped', { sandboxId: s, port: 3000 })).status).toBe(201);
  });

  it('a launch link never opened holds its slot only until its code expires', async () => {
    const s = stack.sandboxes.other;
    for (let i = 0; i < 3; i++) expect((await api('POST', '/api/previews', 'lazy', { sandboxId: s, port: 3000 })).status).toBe(201);
    expect((await api('POST', '/api/previews', 'lazy', { sandboxId: s, port: 3000 })).status).toBe(409);
    clock.advance(61_000);
    expect((await api('POST', '/api/previews', 'lazy', { sandboxId: s, port: 3000 })).status).toBe(201);
  });

  it('a refresh credential reused after the grace window ends the session and frees its slot', async () => {
    const s = stack.sandboxes.open;
    const l = await stack.launch('thief-victim', s, 3000);
    const origin = stack.previewOrigin(s, 3000);
    const refresh = (t: string) => stack.requestPreview(s, 3000, GATE_PATHS.refresh, { method: 'POST', headers: { origin, authorization: `Bearer ${t}` } });
    expect((await refresh(l.grant.refreshToken)).status).toBe(200);
    expect(await store().listSlots(userSessionsKey('thief-victim'), clock.now())).toContain(l.sessionId);
    clock.advance(30_000);
    const reused = await refresh(l.grant.refreshToken);
    expect(code(reused).code).toBe('refresh_reused');
    expect(await store().listSlots(userSessionsKey('thief-victim'), clock.now())).not.toContain(l.sessionId);
  });

  it('sessions are indexed per user and per sandbox (share-link visitors by sandbox too)', async () => {
    const s = stack.sandboxes.other;
    const a = await stack.launch('indexed', s, 8080);
    expect(await store().listSlots(userSessionsKey('indexed'), clock.now())).toEqual([a.sessionId]);
    expect(await store().listSlots(sandboxSessionsKey(s), clock.now())).toContain(a.sessionId);
    const share = await api('POST', '/api/shares', 'indexed', { sandboxId: s, port: 8080, ttlSeconds: 600 });
    const url = new URL(share.json<{ url: string }>().url);
    const visit = await stack.requestPreview(s, 8080, url.pathname + url.search, {
      headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none', accept: 'text/html' },
    });
    expect(visit.status).toBe(303);
    const members = await store().listSlots(sandboxSessionsKey(s), clock.now());
    expect(members.length).toBeGreaterThanOrEqual(2);
  });

  it('a share link past the cap is refused 409 too_many_shares saying what to revoke; revoking one lets the next in', async () => {
    const body = { sandboxId: stack.sandboxes.open, port: 3000, ttlSeconds: 600 };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await api('POST', '/api/shares', 'sharer', body);
      expect(r.status).toBe(201);
      ids.push(r.json<{ id: string }>().id);
    }
    const over = await api('POST', '/api/shares', 'sharer', body);
    expect(over.status).toBe(409);
    expect(code(over).code).toBe('too_many_shares');
    expect(code(over).message).toMatch(/DELETE \/api\/shares/);
    expect((await api('DELETE', `/api/shares/${ids[0]}`, 'sharer')).status).toBe(204);
    expect(await store().listSlots(userSharesKey('sharer'), clock.now())).toEqual([ids[1]]);
    expect((await api('POST', '/api/shares', 'sharer', body)).status).toBe(201);
  });
});
