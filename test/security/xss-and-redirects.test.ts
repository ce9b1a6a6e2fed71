/**
 * Threats: reflected XSS in the gateway's own HTML (error and launch pages) through the path,
 * the Host, the Origin or a code; response splitting through a redirect the gateway builds
 * (share-link 303); open redirects through the launch `path`, the share landing path and the
 * bootstrap's starting page; Daytona URLs or tokens leaking through Location rewriting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safePath } from '../../sw/page/safe-path.js';
import { validPath } from '../../broker/core/broker-api.js';
import { type Stack, closeAll } from '../support/stack.js';
import { rawSocket, startAttackRig, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
});
afterAll(() => closeAll(stack, app));

const PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(1)>';
const NAV = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' };

describe('reflected XSS in gateway pages', () => {
  it('error pages never echo markup from the path, query, Origin, Host or credentials', async () => {
    const enc = encodeURIComponent(PAYLOAD);
    const answers = [
      await stack.requestPreview(sbx, 3000, `/${enc}?q=${enc}`, { headers: NAV }),
      await stack.requestPreview(sbx, 3000, `/x?__gate_share=${enc}`, { headers: NAV }),
      await stack.requestPreview(sbx, 3000, '/x', { headers: { ...NAV, 'x-daytona-preview-token': PAYLOAD.replace(/[<>]/g, '') } }),
      await stack.requestPreview(sbx, 3000, '/x', { headers: { ...NAV, cookie: `__Host-pg-access=${enc}; __Host-pg-refresh=l.${'a'.repeat(30)}` } }),
      await stack.requestPreview(sbx, 22222, `/${enc}`, { headers: NAV }),
      await stack.requestPreview('no-such-sandbox', 3000, `/${enc}`, { headers: NAV }),
      await stack.requestPreview(sbx, 3000, `/__gate/${enc}`, { headers: NAV }),
      await stack.requestPreview(sbx, 3000, '/__gate/session', { method: 'POST', headers: { ...NAV, origin: PAYLOAD.replace(/[\r\n]/g, '') }, body: '{}' }),
    ];
    for (const r of answers) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.text).not.toMatch(/<script>alert|<img src=x|onerror=/i);
      expect(r.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('the WebSocket refusal that names the foreign Origin escapes it (HTML and JSON) and keeps headers single-line', async () => {
    const r = await rawSocket(
      stack.gateway.port,
      `GET /ws HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://e.example/${PAYLOAD}\r\nAccept: text/html\r\n\r\n`,
    );
    expect(r.status).toBe(403);
    expect(r.body).not.toMatch(/<script>alert|<img src=x/);
  });

  it('WWW-Authenticate never carries a quote, CR or LF from input (no header injection)', async () => {
    const r = await stack.requestPreview(sbx, 3000, '/x', { headers: { 'x-daytona-preview-token': 'a" , error="injected' } });
    expect(r.status).toBe(401);
    const wa = r.headers.get('www-authenticate')!;
    expect(wa).not.toContain('injected');
    expect(wa.match(/"/g)!.length % 2).toBe(0);
  });
});

describe('response splitting and open redirects', () => {
  async function shareUrl(path?: string): Promise<URL> {
    const res = await stack.requestGateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 600, ...(path ? { path } : {}) }),
    });
    expect(res.status).toBe(201);
    return new URL(res.json<{ url: string }>().url);
  }

  it('the share-link 303 stays on the preview origin, whatever the path (//host, \\\\host, CRLF, @)', async () => {
    const token = (await shareUrl()).searchParams.get('__gate_share')!;
    const origin = stack.previewOrigin(sbx, 3000);
    let judged = 0;
    for (const p of [
      '//evil.example/x',
      '/\\evil.example',
      '/%0d%0aSet-Cookie:%20pwn=1',
      '/@evil.example',
      '/.//evil.example',
      '/%2F%2Fevil.example',
      '/x?a=%0d%0a',
    ]) {
      const r = await rawSocket(
        stack.gateway.port,
        `GET ${p}${p.includes('?') ? '&' : '?'}__gate_share=${token} HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nSec-Fetch-Mode: navigate\r\nAccept: text/html\r\nConnection: close\r\n\r\n`,
      );
      if (r.status === 400) continue; // refused outright by the HTTP layer
      judged++;
      expect([p, r.status]).toEqual([p, 303]);
      const location = /\r\nlocation: ([^\r\n]*)/i.exec(r.head)?.[1] ?? '';
      expect([p, location.startsWith(`${origin}/`)]).toEqual([p, true]);
      expect(new URL(location).origin).toBe(origin);
      expect(r.head).not.toMatch(/\r\nset-cookie: pwn/i);
      expect(location).not.toContain('__gate_share');
    }
    expect(judged).toBeGreaterThanOrEqual(4);
  });

  it('the launch landing path (bootstrap safePath) never leaves the origin or enters /__gate/', () => {
    const origin = 'http://3000-abc.preview.localhost:8787';
    const evil = [
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      'javascript:alert(1)',
      'https://evil.example',
      ' /x',
      '/__gate/session',
      '/./__gate/sw.js',
      '/x/../__gate/launch',
      '\\\\evil.example',
      '/%09/evil.example',
    ];
    for (const p of evil) {
      const out = safePath(p, origin);
      expect([p, new URL(out, origin).origin]).toEqual([p, origin]);
      expect([p, out.startsWith('/') && !out.startsWith('//')]).toEqual([p, true]);
      expect([p, new URL(out, origin).pathname.startsWith('/__gate/')]).toEqual([p, false]);
    }
    expect(safePath('/docs/a?x=1#h', origin)).toBe('/docs/a?x=1#h');
  });

  it('the broker API refuses landing paths that leave the origin or point into /__gate/', () => {
    for (const p of [
      '//evil.example',
      '/\\evil.example',
      'http://evil.example',
      '/x\r\nSet-Cookie: a=1',
      '/__gate/sw.js',
      '/__gate',
      '/%5F_gate/launch',
      '/%5f%5fgate/sw.js?x=1',
      '/x#frag',
      'x',
    ]) {
      expect(() => validPath(p)).toThrow();
    }
  });

  it("an app redirect to Daytona's host of this sandbox is mapped to the preview origin, with no Daytona token", async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const daytona = stack.emulator.previewUrl(sbx, 3000);
    const to = `${daytona}/next?DAYTONA_SANDBOX_AUTH_KEY=${stack.emulator.standardToken(sbx)}&k=1`;
    const r = await stack.requestPreview(sbx, 3000, `/redirect?to=${encodeURIComponent(to)}`, { headers: { cookie: l.cookieHeader } });
    expect(r.status).toBe(302);
    const location = r.headers.get('location')!;
    expect(location.startsWith(stack.previewOrigin(sbx, 3000))).toBe(true);
    expect(location).not.toContain(stack.emulator.standardToken(sbx));
    expect(location).not.toContain('proxy.localhost');
  });
});
