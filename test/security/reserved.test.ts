/**
 * Threats: reaching Daytona's own ports (web terminal 22222, toolbox 2280, recording 33333)
 * through the gateway, and an app shadowing or receiving the gateway's reserved /__gate/ paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

describe('reserved ports and paths', () => {
  it('reserved ports: 22222, 2280 and 33333 are refused before any credential or Daytona call', async () => {
    const { cookieHeader, grant } = await stack.launch('bob', stack.sandboxes.open, 3000);
    const before = { ...stack.emulator.stats };
    for (const port of [22222, 2280, 33333]) {
      for (const headers of [
        {} as Record<string, string>,
        { cookie: cookieHeader },
        { 'x-daytona-preview-token': grant.accessToken },
        { 'x-daytona-preview-token': stack.emulator.standardToken(stack.sandboxes.open) },
      ]) {
        const res = await stack.requestPreview(stack.sandboxes.open, port, '/', { headers: { ...headers, accept: 'application/json' } });
        expect([port, res.status, res.json<any>().error.code]).toEqual([port, 403, 'reserved_port']);
      }
      const api = await stack.requestGateway('/api/previews', {
        method: 'POST',
        headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sandboxId: stack.sandboxes.open, port }),
      });
      expect(api.json<any>().error.code).toBe('reserved_port');
    }
    expect(stack.emulator.stats.proxyRequests).toBe(before.proxyRequests);
    expect(stack.emulator.stats.apiRequests).toBe(before.apiRequests);
  });

  it('reserved paths are never forwarded: unknown /__gate/ paths are a gateway 404, with or without credentials', async () => {
    const { cookieHeader } = await stack.launch('bob', stack.sandboxes.open, 3000);
    const before = stack.emulator.stats.proxyRequests;
    for (const path of ['/__gate/', '/__gate/nope', '/__gate', '/__gate/launch/../x', '/%5F%5Fgate/nope', '/__gate/session']) {
      for (const method of ['GET', 'PUT']) {
        const res = await stack.requestPreview(stack.sandboxes.open, 3000, path, { method, headers: { cookie: cookieHeader, accept: 'application/json' } });
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.json<any>().error.code, `${method} ${path}`).toMatch(/not_found|bad_request|origin_forbidden/);
      }
    }
    expect(stack.emulator.stats.proxyRequests).toBe(before);
  });

  it('a port outside the allow-list is refused (port_not_allowed)', async () => {
    const s = await startStack({ gateway: { allowedPorts: [3000] } });
    try {
      const res = await s.requestPreview(s.sandboxes.open, 8080, '/');
      expect(res.status).toBe(403);
      expect(res.json<any>().error.code).toBe('port_not_allowed');
    } finally {
      await s.close();
    }
  });
});
