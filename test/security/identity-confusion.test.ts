/**
 * Threat: the identity the app trusts (X-Preview-Gate-Identity `sub`) or the session ownership
 * the broker checks being confused between a host-app user and a share-link visitor: share
 * principals are named `share:<shareId>`, and user ids may contain `:`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { closeAll, cookieHeaderOf, type Stack } from '../support/stack.js';
import { startAttackRig, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
});
afterAll(() => closeAll(stack, app));

describe('principal namespaces', () => {
  it('a host-app user whose id is `share:<id>` is refused (it would collide with share-link principals)', async () => {
    // Bob shares; Mallory (a host-app user who managed to get the sub `share:<that id>`) ...
    const res = await stack.requestGateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 600 }),
    });
    const share = res.json<{ id: string; url: string }>();
    const u = new URL(share.url);
    const nav = await stack.requestPreview(sbx, 3000, u.pathname + u.search, { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } });
    const visitorCookie = cookieHeaderOf(nav.setCookies);
    app.clear();
    await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: visitorCookie } });
    const visitorSid = decodeJwt(String(app.seen[0]!.headers['x-preview-gate-identity'])).sid as string;

    const mallory = await stack.mintUserSession(`share:${share.id}`);
    // ... can end the share visitor's preview session (ownership is compared by user id) ...
    const del = await stack.requestGateway(`/api/previews/${visitorSid}`, { method: 'DELETE', headers: { authorization: `Bearer ${mallory}` } });
    // ... and her own previews carry the same `sub` as the share visitors.
    const launch = await stack.requestGateway('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000 }),
    });
    expect({ del: del.status, launch: launch.status }).toEqual({ del: 401, launch: 401 });
  });
});
