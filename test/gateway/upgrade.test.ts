import { describe, expect, it } from 'vitest';
import { makeGateway, SBX } from './helpers.js';

describe('authorizeUpgrade (the core decides, the Node edge relays)', () => {
  it('accepts the preview origin with a cookie and returns a stripped path, the identity and the headers to strip', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    const d = await t.gw.authorizeUpgrade(
      new Request(`${t.origin()}/ws?x=1&__gate_ticket=zzz&__gate_share=yyy`, {
        headers: { origin: t.origin(), cookie: `${cookie}; app=1`, upgrade: 'websocket', 'x-preview-gate-identity': 'forged' },
      }),
    );
    // A ticket in the URL is the credential of that upgrade: an unknown one is refused, cookies or not.
    expect(d.ok ? 0 : d.response.status).toBe(401);
    const ok = await t.gw.authorizeUpgrade(
      new Request(`${t.origin()}/ws?x=1`, { headers: { origin: t.origin(), cookie: `${cookie}; app=1`, 'x-preview-gate-identity': 'forged' } }),
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.target).toEqual({ sandboxId: SBX, port: 3000 });
    expect(ok.path).toBe('/ws?x=1');
    expect(ok.principal).toMatchObject({ userId: 'bob', kind: 'session' });
    expect(ok.forwardHeaders.cookie).toBe('app=1');
    expect(ok.forwardHeaders['x-preview-gate-identity']).toMatch(/^ey/);
    expect(ok.stripRequestHeaders).toEqual(expect.arrayContaining(['cookie', 'x-daytona-preview-token', 'x-preview-gate-identity']));
  });

  it('refuses a foreign Origin with a ready-to-write 403, and no credential with a 401', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    const foreign = await t.gw.authorizeUpgrade(new Request(`${t.origin()}/ws`, { headers: { origin: 'https://evil.example', cookie } }));
    expect(foreign.ok).toBe(false);
    if (!foreign.ok) {
      expect(foreign.response.status).toBe(403);
      expect((await foreign.response.json()).error.code).toBe('origin_forbidden');
    }
    const none = await t.gw.authorizeUpgrade(new Request(`${t.origin()}/ws`, { headers: { origin: t.origin() } }));
    expect(none.ok ? 0 : none.response.status).toBe(401);
  });

  it('an expired access cookie with a live refresh cookie is accepted without rotating it (no Set-Cookie on a 101)', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    t.clock.advance(301_000);
    const d = await t.gw.authorizeUpgrade(new Request(`${t.origin()}/ws`, { headers: { origin: t.origin(), cookie } }));
    expect(d.ok).toBe(true);
    // The same cookie still renews over HTTP afterwards: it was not rotated by the upgrade.
    const res = await t.preview('/', { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(t.gw.metrics.value('pg_refresh_total', { result: 'rotated' })).toBe(1);
  });
});
