/**
 * Threats: (1) a shared cache in front of the gateway (CDN, corporate proxy) storing an answer
 * that carries a freshly rotated refresh credential (server-side renewal adds Set-Cookie to the
 * app's answer, which may say `Cache-Control: public`), then serving it to other people;
 * (2) a rotated (stolen) refresh cookie replayed on the WebSocket path, where it is only
 * "peeked": reuse must still be detected and end the session, as on HTTP (RFC 9700 §4.14.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, type Stack } from '../support/stack.js';
import { startAttackRig, rawSocket, type Recorder } from './attack-support.js';
import { movableClock } from '../support/clock.js';

let stack: Stack;
let app: Recorder;
let sbx: string;
const clock = movableClock();

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig({ clock: clock.now }));
});
afterAll(() => closeAll(stack, app));

const refreshOf = (cookieHeader: string) => cookieHeader.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;

describe('shared caches', () => {
  it('shared caching of an answer carrying rotated credentials (Set-Cookie) is refused (private, no-store)', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const r = await stack.requestPreview(sbx, 3000, '/cacheable', { headers: { cookie: refreshOf(l.cookieHeader) } });
    expect(r.status).toBe(200);
    expect(r.setCookies.some((c) => c.startsWith('__Host-pg-refresh='))).toBe(true);
    const cc = r.headers.get('cache-control') ?? '';
    expect(cc).toMatch(/no-store|private/);
  });

  it('a CDN in front of the gateway cannot store an authenticated answer the app marked public (no private preview served to strangers)', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const r = await stack.requestPreview(sbx, 3000, '/cacheable', { headers: { 'x-daytona-preview-token': l.grant.accessToken } });
    expect(r.status).toBe(200);
    expect(r.setCookies).toEqual([]);
    const cc = (r.headers.get('cache-control') ?? '').toLowerCase();
    expect(cc).toContain('private');
    expect(cc).not.toContain('public');
    // The browser's own cache still may keep it: the app's max-age survives.
    expect(cc).toContain('max-age=3600');
  });

  it('gateway-made answers with credentials (session exchange, refresh, share 303) are no-store', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const ref = await stack.requestPreview(sbx, 3000, '/__gate/refresh', { method: 'POST', headers: { cookie: l.cookieHeader } });
    expect(ref.headers.get('cache-control')).toContain('no-store');
  });
});

describe('refresh reuse on the WebSocket path', () => {
  it('a rotated refresh cookie replayed on an upgrade after the grace window is refused and ends the session, as on HTTP', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const stolen = refreshOf(l.cookieHeader);
    // The victim renews (server-side) once: the stolen credential is now rotated.
    const renewed = await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: stolen } });
    expect(renewed.status).toBe(200);
    const fresh = renewed.setCookies.map((c) => c.split(';')[0]).join('; ');
    clock.advance(60_000);
    // The thief tries the old cookie on a WebSocket.
    const ws = await rawSocket(
      stack.gateway.port,
      `GET /ws-any HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: ${stolen}\r\n\r\n`,
      1500,
    );
    expect(ws.status).toBe(401);
    // Reuse detected: the victim's (and so the thief's) session is over.
    const victim = await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: fresh, accept: 'application/json' } });
    expect(victim.status).toBe(401);
  });
});
