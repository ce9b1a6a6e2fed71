/**
 * Threats: the sandbox runs untrusted code, so no gateway credential may reach it (cookies,
 * headers, query parameters), and a client must not be able to forge the identity the app
 * trusts. And the Daytona preview token and API key must never reach a browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { TOKEN_TYPES } from '../../protocol/index.js';
import { startStack, cookieHeaderOf, type Stack, type StackResponse } from '../support/stack.js';

let stack: Stack;
const logLines: string[] = [];
const collect = (event: string, fields?: Record<string, unknown>) => void logLines.push(JSON.stringify({ event, ...fields }));
beforeAll(async () => {
  stack = await startStack({ logger: { info: collect, warn: collect, error: collect } });
});
afterAll(() => stack?.close());

interface Echo {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  cookies: Record<string, string>;
}

describe('what the app sees', () => {
  it('no gateway credential reaches the app; the identity assertion does, verifiable with the JWKS', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    const shareRes = await stack.requestGateway('/api/shares', {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId: stack.sandboxes.open, port: 3000, ttlSeconds: 600 }),
    });
    const shareToken = new URL(shareRes.json<{ url: string }>().url).searchParams.get('__gate_share')!;
    const variants: Record<string, string>[] = [
      { cookie: `${l.cookieHeader}; app_cookie=kept` },
      { 'x-daytona-preview-token': l.grant.accessToken, cookie: 'app_cookie=kept; __Host-pg-lookalike=1' },
      { authorization: `Bearer ${l.grant.accessToken}`, cookie: 'app_cookie=kept' },
    ];
    const secrets = [l.grant.accessToken, l.grant.refreshToken, ...l.setCookies.map((c) => c.split(';')[0]!.split('=')[1]!), shareToken];
    for (const headers of variants) {
      const res = await stack.requestPreview(stack.sandboxes.open, 3000, `/api/echo?q=1&__gate_ticket=abc`, {
        headers: { ...headers, accept: 'application/json' },
      });
      // A ticket param only counts on upgrades, but it is stripped from every request.
      expect(res.status).toBe(200);
      const seen = res.json<Echo>();
      expect(seen.query).toEqual({ q: '1' });
      expect(seen.cookies).toEqual({ app_cookie: 'kept' });
      expect(seen.headers['x-daytona-preview-token']).toBeUndefined();
      expect(seen.headers.authorization).toBeUndefined();
      const raw = JSON.stringify(seen);
      for (const s of secrets) expect(raw).not.toContain(s);
      const jwks = createRemoteJWKSet(new URL(stack.jwksUrl));
      const { payload } = await jwtVerify(seen.headers['x-preview-gate-identity']!, jwks, {
        typ: TOKEN_TYPES.identity,
        audience: stack.previewOrigin(stack.sandboxes.open, 3000),
        issuer: 'preview-gate',
      });
      expect(payload).toMatchObject({ sub: 'bob', sid: l.sessionId, knd: 'session' });
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    }
    const viaShare = await stack.requestPreview(stack.sandboxes.open, 3000, `/api/echo?__gate_share=${shareToken}`, {
      headers: { accept: 'application/json' },
    });
    expect(JSON.stringify(viaShare.json())).not.toContain(shareToken);
  });

  it('header injection of X-Preview-Gate-Identity (and any X-Preview-Gate-*) by a client is replaced or dropped', async () => {
    const l = await stack.launch('bob', stack.sandboxes.open, 3000);
    const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.';
    const res = await stack.requestPreview(stack.sandboxes.open, 3000, '/api/echo', {
      headers: { cookie: l.cookieHeader, 'x-preview-gate-identity': forged, 'X-Preview-Gate-User': 'admin', accept: 'application/json' },
    });
    const seen = res.json<Echo>();
    expect(seen.headers['x-preview-gate-identity']).not.toBe(forged);
    expect(seen.headers['x-preview-gate-user']).toBeUndefined();
    const { payload } = await jwtVerify(seen.headers['x-preview-gate-identity']!, createRemoteJWKSet(new URL(stack.jwksUrl)));
    expect(payload.sub).toBe('bob');
    // Without a credential on a public sandbox, the injected header is dropped, not passed.
    const pub = await stack.emulator.createSandbox({ public: true });
    const anon = await stack.requestPreview(pub.id, 3000, '/api/echo', { headers: { 'x-preview-gate-identity': forged, accept: 'application/json' } });
    expect(anon.status).toBe(200);
    expect(anon.json<Echo>().headers['x-preview-gate-identity']).toBeUndefined();
  });

  it('no Daytona token in any answer: bodies, headers and Location of a whole flow, errors included', async () => {
    const answers: StackResponse[] = [];
    const keep = async (p: Promise<StackResponse>) => {
      const r = await p;
      answers.push(r);
      return r;
    };
    const id = stack.sandboxes.open;
    const user = `Bearer ${await stack.mintUserSession('bob')}`;
    const created = await keep(
      stack.requestGateway('/api/previews', {
        method: 'POST',
        headers: { authorization: user, 'content-type': 'application/json' },
        body: JSON.stringify({ sandboxId: id, port: 3000 }),
      }),
    );
    const code = new URLSearchParams(new URL(created.json<{ url: string }>().url).hash.slice(1)).get('code')!;
    await keep(stack.requestPreview(id, 3000, '/__gate/launch', { headers: { accept: 'text/html' } }));
    const ex = await keep(
      stack.requestPreview(id, 3000, '/__gate/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) }),
    );
    const cookie = cookieHeaderOf(ex.setCookies);
    for (const path of ['/', '/api/echo', '/status/302', '/status/307', '/status/204', '/status/500', '/nope', '/app.js']) {
      for (const accept of ['text/html', 'application/json']) await keep(stack.requestPreview(id, 3000, path, { headers: { cookie, accept } }));
    }
    await keep(stack.requestPreview(id, 3000, '/api/echo', { method: 'POST', headers: { cookie, 'content-type': 'text/plain' }, body: 'x'.repeat(1000) }));
    await keep(stack.requestPreview(id, 3000, '/', { headers: { accept: 'text/html' } }));
    await keep(stack.requestPreview(id, 3000, '/', { headers: { 'x-daytona-preview-token': 'garbage' } }));
    await keep(stack.requestPreview(id, 8080, '/', { headers: { cookie } }));
    await keep(stack.requestPreview(id, 22222, '/', {}));
    await keep(stack.requestPreview('does-not-exist', 3000, '/', { headers: { cookie } }));
    await keep(
      stack.requestGateway('/api/previews', {
        method: 'POST',
        headers: { authorization: user, 'content-type': 'application/json' },
        body: '{"sandboxId":"does-not-exist","port":3000}',
      }),
    );
    // The sandbox stopped: Daytona's own error must not leak either.
    await stack.emulator.stopSandbox(id);
    try {
      for (const accept of ['text/html', 'application/json']) await keep(stack.requestPreview(id, 3000, '/', { headers: { cookie, accept } }));
    } finally {
      await stack.emulator.startSandbox(id);
    }
    await keep(stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie, accept: 'application/json' } }));
    await keep(stack.requestGateway('/metrics'));

    const secrets = [stack.emulator.standardToken(id), stack.emulator.apiKey];
    expect(answers.length).toBeGreaterThan(25);
    // Nor in the logs, which also never hold a gateway credential or a query string.
    expect(logLines.length).toBeGreaterThan(25);
    const logs = logLines.join('\n');
    for (const s of [...secrets, code, ...ex.setCookies.map((c) => c.split(';')[0]!.split('=')[1]!)]) expect(logs).not.toContain(s);
    expect(logs).not.toContain('__gate_share=');
    for (const a of answers) {
      const everything = [a.text, ...[...a.headers].map(([k, v]) => `${k}: ${v}`)].join('\n');
      for (const s of secrets) expect(everything).not.toContain(s);
      // Redirects point at the preview origin, never at Daytona's own host.
      expect(a.headers.get('location') ?? '').not.toMatch(/proxy\.localhost/);
    }
    expect(answers.some((a) => a.status === 200)).toBe(true);
    expect(answers.some((a) => a.headers.get('location'))).toBe(true);
    expect(answers.some((a) => a.status === 503)).toBe(true);
  });
});
