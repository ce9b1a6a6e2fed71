/**
 * Threats: cross-site request forgery against the gateway's own endpoints (login CSRF on
 * /__gate/session, forced renewal/logout, ticket minting), and against the preview itself
 * through the gateway's CORS preflight answer: a sibling preview origin (another user's sandbox
 * on the same preview domain is SAME-SITE, so SameSite=Lax cookies go along) sending
 * preflighted, credentialed requests into a victim's preview.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { startAttackRig, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;
let l: LaunchResult;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
  l = await stack.launch('bob', sbx, 3000);
});
afterAll(() => closeAll(stack, app));

describe('CSRF on /__gate/ endpoints', () => {
  it('every POST /__gate/* refuses foreign, null, look-alike and sibling-port Origins', async () => {
    const self = stack.previewOrigin(sbx, 3000);
    const foreign = [
      'http://evil.example',
      'null',
      `${self}.evil.example`,
      self.replace('http://', 'https://'),
      stack.previewOrigin(sbx, 8080),
      self.toUpperCase(),
      `${self}/`,
    ];
    for (const path of ['/__gate/session', '/__gate/refresh', '/__gate/logout', '/__gate/ws-ticket']) {
      for (const origin of foreign) {
        const r = await stack.requestPreview(sbx, 3000, path, {
          method: 'POST',
          headers: { origin, cookie: l.cookieHeader, 'content-type': 'application/json' },
          body: '{"code":"x"}',
        });
        expect([path, origin, r.status]).toEqual([path, origin, 403]);
        expect(r.setCookies).toEqual([]);
      }
    }
    // The session survived all of it (no forced logout, no rotation).
    const ok = await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: l.cookieHeader } });
    expect(ok.status).toBe(200);
  });

  it('login CSRF by a simple form post (text/plain, no Origin stripping) is refused', async () => {
    const r = await stack.requestPreview(sbx, 3000, '/__gate/session', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
      body: '{"code":"x"}',
    });
    expect(r.status).toBe(403);
  });

  it('GET /__gate/status grants no CORS read to other origins', async () => {
    const r = await stack.requestPreview(sbx, 3000, '/__gate/status', { headers: { origin: 'http://evil.example', cookie: l.cookieHeader } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await stack.requestPreview(sbx, 3000, '/__gate/refresh', {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe("CSRF into the preview through the gateway's preflight answer", () => {
  it('a credentialed PUT from a sibling preview origin (same site, Lax cookies sent) through the preflight is refused', async () => {
    const attacker = stack.previewOrigin(stack.sandboxes.other, 3000); // another user's sandbox app
    // The app behind the gateway has no CORS policy at all (the recorder sets none).
    const pre = await stack.requestPreview(sbx, 3000, '/api/delete-everything', {
      method: 'OPTIONS',
      headers: { origin: attacker, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, x-anything' },
    });
    const preflightAllows =
      pre.status < 300 && pre.headers.get('access-control-allow-origin') === attacker && pre.headers.get('access-control-allow-credentials') === 'true';
    app.clear();
    const put = await stack.requestPreview(sbx, 3000, '/api/delete-everything', {
      method: 'PUT',
      headers: { origin: attacker, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', cookie: l.cookieHeader, 'content-type': 'application/json' },
      body: '{}',
    });
    const reachedApp = app.seen.length > 0 && put.status === 200;
    // Either the gateway must not bless foreign preflights for an app that never opted in, or it
    // must refuse cookie-authenticated unsafe requests from another site/origin.
    expect({ preflightAllows, reachedApp }).not.toEqual({ preflightAllows: true, reachedApp: true });
  });
});
