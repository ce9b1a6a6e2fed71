import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRequest, principal, startApp, startRig, type Rig } from './support.js';
import type { GateError } from '../../../protocol/index.js';

let rig: Rig;
let sandboxId: string;

beforeAll(async () => {
  rig = await startRig();
  sandboxId = (await rig.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
});
afterAll(async () => rig?.close());

const target = () => ({ sandboxId, port: 3000 });

describe('forward() to a private sandbox through the emulator', () => {
  it('reaches the app with path, query, method and body, carrying Daytona token only upstream', async () => {
    const res = await rig.upstream.forward(
      clientRequest(sandboxId, '/api/echo?a=1&b=two', {
        method: 'PUT',
        body: 'hello',
        headers: { 'content-type': 'text/plain', 'x-app': 'yes' },
      }),
      target(),
      principal,
    );
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; bodySize: number };
    expect(echo.method).toBe('PUT');
    expect(echo.path).toBe('/api/echo');
    expect(echo.query).toMatchObject({ a: '1', b: 'two' });
    expect(echo.bodySize).toBe(5);
    expect(echo.headers['x-app']).toBe('yes');
    // Daytona strips its token before the app; the app never sees it.
    expect(JSON.stringify(echo)).not.toContain(rig.emulator.standardToken(sandboxId));
  });

  it('removes hop-by-hop headers (RFC 9110 §7.6.1), including those named by Connection', async () => {
    const res = await rig.upstream.forward(
      clientRequest(sandboxId, '/api/echo', {
        headers: {
          connection: 'keep-alive, x-secret-hop',
          'x-secret-hop': 'must not pass',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-connection': 'keep-alive',
          trailer: 'x-foo',
          upgrade: 'h2c',
          'x-end-to-end': 'kept',
        },
      }),
      target(),
      principal,
    );
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    for (const name of ['x-secret-hop', 'keep-alive', 'te', 'proxy-connection', 'trailer', 'upgrade']) {
      expect(headers[name], name).toBeUndefined();
    }
    expect(headers['x-end-to-end']).toBe('kept');
  });

  it('removes hop-by-hop headers from the answer too (Daytona answering with Connection-named fields)', async () => {
    // Daytona's proxy already drops most of these; the gateway does not rely on it.
    const upstream = rig.make({
      fetch: async () =>
        new Response('ok', { headers: { connection: 'close, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5', 'proxy-connection': 'x', 'x-e2e': 'kept' } }),
    });
    const res = await upstream.forward(clientRequest(sandboxId, '/'), target(), principal);
    for (const name of ['connection', 'x-hop', 'keep-alive', 'proxy-connection']) expect(res.headers.get(name), name).toBeNull();
    expect(res.headers.get('x-e2e')).toBe('kept');
  });

  it('sets X-Forwarded-Host/Proto (replacing client values) and appends X-Forwarded-For', async () => {
    const res = await rig.upstream.forward(
      clientRequest(sandboxId, '/api/echo', {
        headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'gopher', 'x-daytona-skip-last-activity-update': 'true' },
      }),
      target(),
      principal,
      { clientAddress: '203.0.113.7' },
    );
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    // Daytona appends its own host after ours; the client's value is gone.
    expect(headers['x-forwarded-host']).not.toContain('evil.example');
    expect(headers['x-forwarded-host']).toContain(`3000-${sandboxId}.preview.localhost:8787`);
    expect(headers['x-forwarded-proto']).not.toContain('gopher');
    expect(headers['x-forwarded-for']).toContain('203.0.113.7');
    expect(headers['x-daytona-skip-last-activity-update']).toBeUndefined();
  });

  it('passes redirects, 304 and 204 from the app through untouched', async () => {
    const redirect = await rig.upstream.forward(clientRequest(sandboxId, '/status/302'), target(), principal);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/');
    const temp = await rig.upstream.forward(clientRequest(sandboxId, '/status/307'), target(), principal);
    expect(temp.status).toBe(307);
    expect(temp.headers.get('location')).toBe('/');
    const notModified = await rig.upstream.forward(clientRequest(sandboxId, '/status/304'), target(), principal);
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeNull();
    const noContent = await rig.upstream.forward(clientRequest(sandboxId, '/status/204'), target(), principal);
    expect(noContent.status).toBe(204);
    const head = await rig.upstream.forward(clientRequest(sandboxId, '/', { method: 'HEAD' }), target(), principal);
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it("keeps the app's CORS headers single: Daytona's CORS is disabled upstream", async () => {
    const app = await startApp((req, res) => {
      res.writeHead(200, {
        'access-control-allow-origin': 'https://ide.example',
        'content-type': 'text/plain',
        'x-saw-disable-cors': String(req.headers['x-daytona-disable-cors'] ?? 'stripped'),
      });
      res.end('ok');
    });
    try {
      await rig.emulator.bindPort(sandboxId, 4100, { target: app.url });
      const res = await rig.upstream.forward(
        clientRequest(sandboxId, '/', { headers: { origin: 'https://attacker.example' } }, 4100),
        { sandboxId, port: 4100 },
        principal,
      );
      expect(res.headers.get('access-control-allow-origin')).toBe('https://ide.example');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('x-saw-disable-cors')).toBe('stripped');
    } finally {
      await app.close();
    }
  });

  it("rewrites a Location on Daytona's preview host to the gateway's preview origin, and drops Daytona cookies and token echoes", async () => {
    // What the app can read of Daytona's credential: the signed host Daytona appended to X-Forwarded-Host.
    let signedHost = '';
    const token = () => signedHost.split('.')[0]!.split('-')[1]!;
    const app = await startApp((req, res) => {
      signedHost = String(req.headers['x-forwarded-host']).split(',').pop()!.trim();
      const daytona = `http://${signedHost}`;
      res.writeHead(302, [
        'Location',
        `${daytona}/next?x=1&DAYTONA_SANDBOX_AUTH_KEY=${token()}`,
        'Content-Location',
        `${rig.emulator.previewUrl(sandboxId, 8080)}/other`,
        'Set-Cookie',
        `daytona-sandbox-auth-${sandboxId}=sealed; Path=/; HttpOnly`,
        'Set-Cookie',
        'pkce_verifier=abc; Path=/',
        'Set-Cookie',
        'app=1; Path=/',
        'X-Echo',
        `token=${token()}`,
        'Content-Length',
        '0',
      ]);
      res.end();
    });
    try {
      await rig.emulator.bindPort(sandboxId, 4101, { target: app.url });
      const res = await rig.upstream.forward(clientRequest(sandboxId, '/', {}, 4101), { sandboxId, port: 4101 }, principal);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`http://4101-${sandboxId}.preview.localhost:8787/next?x=1`);
      expect(res.headers.get('content-location')).toBe(`http://8080-${sandboxId}.preview.localhost:8787/other`);
      expect(res.headers.getSetCookie()).toEqual(['app=1; Path=/']);
      expect(res.headers.get('x-echo')).toBeNull();
      const everything = [...res.headers].join('\n');
      expect(token()).toMatch(/^[a-z0-9]{16}$/);
      expect(everything).not.toContain(token());
    } finally {
      await app.close();
    }
  });

  it('passes Content-Encoding bodies through byte for byte (no decompression)', async () => {
    const { gzipSync } = await import('node:zlib');
    const packed = gzipSync(Buffer.from('x'.repeat(10_000)));
    const app = await startApp((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain', 'content-length': packed.length });
      res.end(packed);
    });
    try {
      await rig.emulator.bindPort(sandboxId, 4102, { target: app.url });
      const res = await rig.upstream.forward(clientRequest(sandboxId, '/', {}, 4102), { sandboxId, port: 4102 }, principal);
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(Buffer.from(await res.arrayBuffer()).equals(packed)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('streams a server-sent event stream as it comes', async () => {
    const res = await rig.upstream.forward(clientRequest(sandboxId, '/events'), target(), principal);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('data: tick 2')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('data: tick 1');
  });

  it('errors the body (not a silent truncation) when the app dies mid-response', async () => {
    const res = await rig.upstream.forward(clientRequest(sandboxId, '/fail'), target(), principal);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it("maps an app port that is not listening (Daytona's bare 502) to a coded 502 app_not_listening without secrets", async () => {
    const err = await rig.upstream.forward(clientRequest(sandboxId, '/', {}, 5999), { sandboxId, port: 5999 }, principal).then(
      () => null,
      (e: unknown) => e as GateError,
    );
    expect(err?.code).toBe('app_not_listening');
    expect(err?.status).toBe(502);
    expect(err?.message).toContain('port 5999');
    expect(err?.message).not.toContain(rig.emulator.standardToken(sandboxId));
  });
});
