/**
 * The gateway's side of an app's own Service Worker (ARCHITECTURE.md flow 15), over real sockets:
 * the emulator, the gateway and the PWA sample app (demo/sandbox-apps/pwa) bound to a sandbox
 * port, requests as a browser sends them for a worker script (`Service-Worker: script`). The
 * browsers: test/e2e/app-worker.test.ts (Chromium), -firefox, -webkit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPwaApp, type PwaApp } from '../../demo/sandbox-apps/pwa/server.js';
import { startStack, type LaunchResult, type Stack } from '../support/stack.js';

const SCRIPT = { 'service-worker': 'script', 'sec-fetch-dest': 'serviceworker', 'sec-fetch-mode': 'same-origin', 'sec-fetch-site': 'same-origin' };

describe("the gateway serves an app's own worker script wrapped around its own", () => {
  let stack: Stack;
  let pwa: PwaApp;
  let bob: LaunchResult;
  beforeAll(async () => {
    [stack, pwa] = await Promise.all([startStack(), startPwaApp()]);
    await stack.emulator.bindPort(stack.sandboxes.open, 3000, { target: pwa.url });
    bob = await stack.launch('bob', stack.sandboxes.open, 3000);
  });
  afterAll(async () => {
    await stack?.close();
    await pwa?.close();
  });

  it("the app's worker script is refused without a credential (it is the app's private code), served wrapped with the cookie", async () => {
    const refused = await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', { headers: SCRIPT });
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain('pwa-sample');
    // Positive control: the same request with the preview's cookie, as the browser sends it.
    const seen = pwa.requests.length;
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', { headers: { ...SCRIPT, cookie: bob.cookieHeader } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-preview-gate-app-worker')).toBe('classic');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.text.split('\n')[1]).toBe("importScripts('/__gate/sw.js');");
    expect(res.text).toContain("const VERSION = 'v1';");
    expect(res.text.trimEnd().endsWith('self.__previewGate && self.__previewGate.finish();')).toBe(true);
    // The app got the request authenticated, without our credentials, asked for no compression.
    const reached = pwa.requests.slice(seen);
    expect(reached).toEqual([
      expect.objectContaining({ path: '/sw.js', identity: true, serviceWorker: true, gateCredential: false, acceptEncoding: 'identity' }),
    ]);
    // The imported script is ours, public (it holds no secret), and allowed to control scope `/`.
    const ours = await stack.requestPreview(stack.sandboxes.open, 3000, '/__gate/sw.js');
    expect(ours.status).toBe(200);
    expect(ours.headers.get('content-type')).toMatch(/javascript/);
  });

  it("the wrapper's bytes change exactly when the app's script does (the browser's update check sees app updates)", async () => {
    const get = async () => (await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', { headers: { ...SCRIPT, cookie: bob.cookieHeader } })).text;
    const a = await get();
    expect(await get()).toBe(a);
    pwa.setVersion('v9');
    try {
      const b = await get();
      expect(b).not.toBe(a);
      expect(b.replace("'v9'", "'v1'")).toBe(a);
    } finally {
      pwa.setVersion('v1');
    }
  });

  it('only the browser fetch of a worker script is wrapped: the same path fetched otherwise is the app script as is', async () => {
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', { headers: { cookie: bob.cookieHeader } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-preview-gate-app-worker')).toBeNull();
    expect(res.text.startsWith('/* The sample PWA')).toBe(true);
    expect(res.text).not.toContain('__gate');
  });

  it('a worker script fetched with a token for another sandbox is refused (wrong_scope); its own passes', async () => {
    const other = await stack.launch('bob', stack.sandboxes.other, 3000);
    const refused = await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', {
      headers: { ...SCRIPT, 'x-daytona-preview-token': other.grant.accessToken },
    });
    expect(refused.status).toBe(403);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('wrong_scope');
    const own = await stack.requestPreview(stack.sandboxes.open, 3000, '/sw.js', {
      headers: { ...SCRIPT, 'x-daytona-preview-token': bob.grant.accessToken },
    });
    expect(own.status).toBe(200);
    expect(own.headers.get('x-preview-gate-app-worker')).toBe('classic');
  });
});
