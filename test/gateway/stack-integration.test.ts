/** The gateway over real sockets against the emulator through the real SDK: stopped sandboxes and opt-in auto-start. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { tryWebSocket } from '../security/attack-support.js';

describe('stopped sandboxes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ gateway: { autoStart: true } });
  });
  afterAll(() => stack?.close());

  it('with GATE_AUTO_START, an authorised request wakes a stopped sandbox: a self-reloading page, then the app', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const l = await stack.launch('bob', id, 3000);
    await stack.emulator.stopSandbox(id);
    const first = await stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie: l.cookieHeader, accept: 'text/html' } });
    expect(first.status).toBe(503);
    expect(first.text).toContain('data-gate-code="sandbox_starting"');
    expect(first.text).toMatch(/http-equiv="refresh"/);
    const deadline = Date.now() + 10_000;
    let res = first;
    while (res.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      res = await stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie: l.cookieHeader, accept: 'application/json' } });
    }
    expect(res.status).toBe(200);
  });

  it('with GATE_AUTO_START, an authorised WebSocket (an HMR socket reconnecting) wakes a stopped sandbox too', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const l = await stack.launch('bob', id, 3000);
    await stack.emulator.stopSandbox(id);
    const origin = stack.previewOrigin(id, 3000);
    const first = await tryWebSocket(stack.gateway.port, stack.previewHost(id, 3000), '/ws', { cookie: l.cookieHeader, origin });
    expect(first).toMatchObject({ opened: false, status: 503 });
    expect(first.opened ? '' : first.body).toContain('sandbox_starting');
    const deadline = Date.now() + 10_000;
    let out = first;
    while (!out.opened && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      out = await tryWebSocket(stack.gateway.port, stack.previewHost(id, 3000), '/ws', { cookie: l.cookieHeader, origin });
    }
    expect(out).toEqual({ opened: true, echo: 'ping' });
  });

  it('a request without a credential never wakes a sandbox (no wake capacity for strangers)', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    await stack.emulator.stopSandbox(id);
    const res = await stack.requestPreview(id, 3000, '/', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    const again = await stack.requestPreview(id, 3000, '/', { headers: { accept: 'application/json' } });
    expect(again.json<any>().error.code).toBe('missing_credential');
    const l = await stack.launch('bob', id, 3000);
    const authed = await stack.requestPreview(id, 3000, '/', { headers: { cookie: l.cookieHeader, accept: 'application/json' } });
    expect(authed.json<any>().error.code).toBe('sandbox_starting'); // it was still stopped until now
  });
});
