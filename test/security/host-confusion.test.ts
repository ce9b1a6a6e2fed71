/**
 * Threat: a credential for one preview origin (sandbox A port 3000) opening another (port 8080,
 * sandbox B, the gateway's own API) through Host-header tricks: case, trailing dot, port
 * mismatch, duplicate Host lines, absolute-form request targets, X-Forwarded-Host, IPv6
 * literals, leading zeros and encodings of reserved ports. The gateway must classify a request
 * once and consistently, and a token's scope must follow the classified host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, startStack, type LaunchResult, type Stack } from '../support/stack.js';
import { rawSocket, startRecorder, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let a: string;
let b: string;
let l: LaunchResult;

beforeAll(async () => {
  stack = await startStack();
  app = await startRecorder();
  const ports = { 3000: { target: app.url }, 8080: { target: app.url } };
  a = (await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports })).id;
  b = (await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports })).id;
  l = await stack.launch('bob', a, 3000);
});
afterAll(() => closeAll(stack, app));

const dom = () => stack.gateway.app.config.previewDomain;
const gp = () => stack.gateway.port;
const tokenHeader = () => `X-Daytona-Preview-Token: ${l.grant.accessToken}\r\n`;
const raw = (target: string, hostLines: string, extra = '') =>
  rawSocket(gp(), `GET ${target} HTTP/1.1\r\n${hostLines}${extra}Accept: application/json\r\nConnection: close\r\n\r\n`);

describe('host confusion', () => {
  it('control: the token opens 3000-A through a raw socket', async () => {
    app.clear();
    const r = await raw('/probe', `Host: 3000-${a}.${dom()}:${gp()}\r\n`, tokenHeader());
    expect(r.status).toBe(200);
    expect(app.seen).toHaveLength(1);
  });

  it('case, trailing dot and port variants of ANOTHER origin stay out of scope', async () => {
    app.clear();
    const hosts = [
      `8080-${a}.${dom()}:${gp()}`,
      `8080-${a.toUpperCase()}.${dom().toUpperCase()}:${gp()}`,
      `8080-${a}.${dom()}.:${gp()}`,
      `8080-${a}.${dom()}`,
      `8080-${a}.${dom()}:1`,
      `3000-${b}.${dom()}:${gp()}`,
      `3000-${b}.${dom()}.`,
    ];
    for (const h of hosts) {
      const r = await raw('/probe', `Host: ${h}\r\n`, tokenHeader());
      expect([h, r.status]).toEqual([h, 403]);
      expect(r.body).toContain('wrong_scope');
    }
    expect(app.seen).toHaveLength(0);
  });

  it('case and trailing-dot variants of the SAME origin are the same sandbox port (no new origin to confuse)', async () => {
    app.clear();
    for (const h of [`3000-${a.toUpperCase()}.${dom().toUpperCase()}:${gp()}`, `3000-${a}.${dom()}.:${gp()}`]) {
      const r = await raw('/probe', `Host: ${h}\r\n`, tokenHeader());
      expect([h, r.status]).toEqual([h, 200]);
    }
  });

  it('absolute-form request target: the target URL, not the Host line, decides the origin and the scope', async () => {
    app.clear();
    // Host says 3000-A (the token's scope), the target says 8080-A: refused.
    const r1 = await raw(`http://8080-${a}.${dom()}:${gp()}/probe`, `Host: 3000-${a}.${dom()}:${gp()}\r\n`, tokenHeader());
    expect(r1.status).toBe(403);
    // Host says the gateway's own origin, the target a preview origin: treated as that preview (no API confusion).
    const r2 = await raw(`http://3000-${b}.${dom()}:${gp()}/probe`, `Host: 127.0.0.1:${gp()}\r\n`, tokenHeader());
    expect(r2.status).toBe(403);
    // Host says a preview, the target the gateway: the broker API is not reachable as a preview and vice versa.
    const r3 = await raw(`http://127.0.0.1:${gp()}/__gate/status`, `Host: 3000-${a}.${dom()}:${gp()}\r\n`);
    expect(r3.status).toBe(404);
    expect(app.seen).toHaveLength(0);
  });

  it('duplicate Host lines never let the second line pick the origin', async () => {
    app.clear();
    const r = await raw('/probe', `Host: 8080-${a}.${dom()}:${gp()}\r\nHost: 3000-${a}.${dom()}:${gp()}\r\n`, tokenHeader());
    // Either refused as malformed (400) or judged on ONE host consistently (8080: wrong_scope).
    expect([400, 403]).toContain(r.status);
    expect(app.seen).toHaveLength(0);
  });

  it("X-Forwarded-Host / Forwarded / X-Original-Host do not move the request to the token's origin", async () => {
    app.clear();
    const fwd = `X-Forwarded-Host: 3000-${a}.${dom()}:${gp()}\r\nForwarded: host=3000-${a}.${dom()}:${gp()}\r\nX-Original-Host: 3000-${a}.${dom()}\r\nX-Host: 3000-${a}.${dom()}\r\n`;
    const r = await raw('/probe', `Host: 8080-${a}.${dom()}:${gp()}\r\n`, tokenHeader() + fwd);
    expect(r.status).toBe(403);
    expect(app.seen).toHaveLength(0);
  });

  it("X-Forwarded-Host sent to the app is the gateway's own value, never the client's", async () => {
    app.clear();
    const r = await raw('/probe', `Host: 3000-${a}.${dom()}:${gp()}\r\n`, tokenHeader() + 'X-Forwarded-Host: evil.example\r\n');
    expect(r.status).toBe(200);
    expect(String(app.seen[0]!.headers['x-forwarded-host'])).not.toContain('evil.example');
  });

  it('reserved and malformed ports in the host label: leading zeros, signs, overflow, encodings', async () => {
    app.clear();
    for (const label of ['022222', '0022222', '2280', '33333', '+3000', '03000', '3000.0', '65536', '99999', '0', '%33000', '3e3', '0x0bb8']) {
      const h = `${label}-${a}.${dom()}:${gp()}`;
      const r = await raw('/probe', `Host: ${h}\r\n`, tokenHeader());
      expect([h, [400, 403, 404]]).toEqual([h, expect.arrayContaining([r.status])]);
    }
    expect(app.seen).toHaveLength(0);
    expect(stack.emulator.stats.proxyRequests).toBeGreaterThanOrEqual(1); // sanity: emulator counted the control request
  });

  it('IPv6 literals and odd hosts are the gateway origin, where preview credentials mean nothing', async () => {
    for (const h of [`[::1]:${gp()}`, `[::ffff:127.0.0.1]:${gp()}`, `3000-${a}.${dom()}@evil:${gp()}`, `3000-${a}.${dom()}.evil.example`]) {
      const r = await raw('/probe', `Host: ${h}\r\n`, tokenHeader());
      expect([h, r.status]).toEqual([h, expect.any(Number)]);
      expect([h, r.status >= 400]).toEqual([h, true]);
    }
    expect(app.seen).toHaveLength(0);
  });

  it('a cookie (not only a header) for 3000-A is refused on 8080-A and on B', async () => {
    for (const [id, port] of [
      [a, 8080],
      [b, 3000],
    ] as const) {
      const r = await stack.requestPreview(id, port, '/probe', { headers: { cookie: l.cookieHeader, accept: 'application/json' } });
      expect(r.status).toBe(403);
      expect(r.json<any>().error.code).toBe('wrong_scope');
      // The refresh cookie is bound to its origin too: no server-side renewal elsewhere.
      const refreshOnly = l.cookieHeader.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;
      const r2 = await stack.requestPreview(id, port, '/probe', { headers: { cookie: refreshOnly, accept: 'application/json' } });
      expect(r2.status).toBe(403);
      expect(r2.setCookies).toEqual([]);
    }
  });
});
