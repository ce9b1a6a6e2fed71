/**
 * The gateway side of the cookie-less path: it serves the WebSocket wrapper at /__gate/ws.js on
 * every preview origin (public, like the worker script: it holds no secret) and hands a
 * WebSocket ticket to the worker's token alone, no cookie; without a credential, or from another
 * origin, the ticket is refused.
 */
import { describe, expect, it } from 'vitest';
import { makeGateway } from './helpers.js';

describe('gateway: the WebSocket wrapper and its tickets without any cookie', () => {
  it('serves /__gate/ws.js as JavaScript on preview origins, never from the app; 503 when not built', async () => {
    const t = await makeGateway({}, { assets: { serviceWorker: '/*sw*/', bootstrap: '/*boot*/', embed: '/*embed*/', wsShim: '/*ws shim*/' } });
    const res = await t.preview('/__gate/ws.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('/*ws shim*/');
    expect(t.upstream.seen).toHaveLength(0);
    const unbuilt = await makeGateway({}, { assets: { serviceWorker: '/*sw*/' } });
    expect((await unbuilt.preview('/__gate/ws.js')).status).toBe(503);
  });

  it("a ticket for the worker's header token alone (no cookie); without a credential or from another origin it is refused", async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const withToken = await t.preview('/__gate/ws-ticket', { method: 'POST', headers: { 'x-daytona-preview-token': grant.accessToken } });
    expect(withToken.status).toBe(200);
    expect(await withToken.json()).toMatchObject({ ticket: expect.any(String), expiresAt: expect.any(Number) });
    const none = await t.preview('/__gate/ws-ticket', { method: 'POST' });
    expect(none.status).toBe(401);
    const foreign = await t.preview('/__gate/ws-ticket', {
      method: 'POST',
      headers: { 'x-daytona-preview-token': grant.accessToken, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });
});
