/**
 * Threat: bad input crashing, hanging or confusing the gateway. Every malformed request gets a
 * coded error (JSON by default, 401s with WWW-Authenticate) and the gateway keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, rawRequest, type Stack } from '../support/stack.js';

let stack: Stack;
let user: string;
beforeAll(async () => {
  stack = await startStack();
  user = `Bearer ${await stack.mintUserSession('bob')}`;
});
afterAll(() => stack?.close());

const api = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  stack.requestGateway(path, { method: 'POST', headers: { authorization: user, 'content-type': 'application/json', ...headers }, body });

describe('bad input gets a coded error, never a crash', () => {
  it('broker API bodies', async () => {
    const open = () => stack.sandboxes.open;
    const table: [string, string | Uint8Array, number, string][] = [
      ['/api/previews', '{not json', 400, 'bad_request'],
      ['/api/previews', '[1,2]', 400, 'bad_request'],
      ['/api/previews', '', 400, 'bad_request'],
      ['/api/previews', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, pad: 'x'.repeat(20_000) }), 413, 'payload_too_large'],
      ['/api/previews', 'x'.repeat(5 * 1024 * 1024), 413, 'payload_too_large'],
      ['/api/previews', JSON.stringify({ sandboxId: 42, port: 3000 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: '', port: 3000 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: '../etc', port: 3000 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: 'a'.repeat(100), port: 3000 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: 'a.b', port: 3000 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 0 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 65536 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: '3000' }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000.5 }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, path: 'https://evil.example/' }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, path: '//evil.example/' }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, path: '/\\evil.example' }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, path: '/__gate/launch' }), 400, 'bad_request'],
      ['/api/previews', JSON.stringify({ sandboxId: open(), port: 3000, path: '/a\nb' }), 400, 'bad_request'],
      ['/api/shares', JSON.stringify({ sandboxId: open(), port: 3000, ttlSeconds: 'long' }), 400, 'bad_request'],
      ['/api/shares', JSON.stringify({ sandboxId: open(), port: 3000, ttlSeconds: 1e12 }), 400, 'bad_request'],
      ['/api/shares', JSON.stringify({ sandboxId: open(), port: 3000, ttlSeconds: 59 }), 400, 'bad_request'],
      ['/api/demo/session', JSON.stringify({ userId: 'x' }), 404, 'not_found'],
    ];
    for (const [path, body, status, code] of table) {
      const res = await api(path, body);
      const label = `${path} ${typeof body === 'string' ? body.slice(0, 60) : '<bytes>'}`;
      expect([label, res.status], label).toEqual([label, status]);
      expect(res.json<any>().error.code, label).toBe(code);
    }
  });

  it('authorization headers', async () => {
    for (const authorization of ['', 'Bearer', 'Bearer ', 'Basic Ym9iOng=', 'Bearer a.b.c', `Bearer ${'x'.repeat(4000)}`, 'Bearer \u00e9t\u00e9']) {
      const res = await stack.requestGateway('/api/shares', { headers: authorization ? { authorization } : {} });
      expect(res.status, authorization.slice(0, 30)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_(request|token)"/);
    }
  });

  it('preview hosts', async () => {
    const p = stack.gateway.port;
    for (const host of [
      `preview.localhost:${p}`,
      `0-abc.preview.localhost:${p}`,
      `65536-abc.preview.localhost:${p}`,
      `03000-abc.preview.localhost:${p}`,
      `3000-.preview.localhost:${p}`,
      `3000-a!b.preview.localhost:${p}`,
      `x-abc.preview.localhost:${p}`,
      `3000-a.b.preview.localhost:${p}`,
    ]) {
      const res = await rawRequest(p, host, '/');
      expect([host, res.status]).toEqual([host, 404]);
      expect(res.json<any>().error.code).toBe('not_found');
    }
  });

  it('preview-origin credentials and endpoints', async () => {
    const id = stack.sandboxes.open;
    const cases: [string, { method?: string; headers?: Record<string, string>; body?: string }, number, string][] = [
      ['/__gate/session', { method: 'POST', body: '{}' }, 400, 'bad_request'],
      ['/__gate/session', { method: 'POST', body: '{"code":123}' }, 400, 'bad_request'],
      ['/__gate/session', { method: 'POST', body: '{"code":"nope"}' }, 401, 'invalid_code'],
      ['/__gate/session', { method: 'POST', body: 'x'.repeat(100_000) }, 413, 'payload_too_large'],
      ['/__gate/refresh', { method: 'POST', headers: { authorization: 'Bearer nope' } }, 401, 'invalid_session'],
      ['/__gate/refresh', { method: 'POST' }, 401, 'missing_credential'],
      ['/__gate/refresh', { method: 'POST', headers: { cookie: '__Host-pg-refresh=l.' + 'a'.repeat(43) } }, 401, 'invalid_session'],
      ['/', { headers: { cookie: '__Host-pg-access=garbage; __Host-pg-refresh=zzz' } }, 401, 'invalid_token'],
      ['/', { headers: { cookie: '__Host-pg-access=' } }, 401, 'missing_credential'],
      ['/', { headers: { 'x-daytona-preview-token': '' } }, 401, 'invalid_token'],
      ['/?__gate_share=', {}, 401, 'invalid_token'],
      ['/?__gate_share=a.b.c', {}, 401, 'invalid_token'],
      ['/__gate/ws-ticket', { method: 'POST' }, 401, 'missing_credential'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await stack.requestPreview(id, 3000, path, {
        ...init,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...init.headers },
      });
      const label = `${init.method ?? 'GET'} ${path} ${JSON.stringify(init.headers ?? {}).slice(0, 60)}`;
      expect([label, res.status]).toEqual([label, status]);
      expect(res.json<any>().error.code, label).toBe(code);
      if (status === 401) expect(res.headers.get('www-authenticate'), label).toContain(`error_code="${code}"`);
    }
  });

  it('keeps serving afterwards', async () => {
    expect((await stack.requestGateway('/healthz')).status).toBe(200);
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    expect((await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', { headers: { cookie: l.cookieHeader } })).status).toBe(200);
  });
});
