/**
 * Threat: a gateway credential smuggled past the hygiene step into the (untrusted) sandbox app,
 * or a gateway-added header stripped on the way, through parser differentials: several Cookie
 * or Authorization lines, odd cookie spelling, encoded/repeated gateway query parameters, two
 * credential headers at once, and hop-by-hop abuse (`Connection: <header>`).
 * The app here is a recorder bound to a sandbox port: it sees exactly what Daytona forwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { rawSocket, startAttackRig, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;
let l: LaunchResult;
let shareToken: string;
let secrets: string[];

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
  l = await stack.launch('bob', sbx, 3000);
  const res = await stack.requestGateway('/api/shares', {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId: sbx, port: 3000, ttlSeconds: 600 }),
  });
  shareToken = new URL(res.json<{ url: string }>().url).searchParams.get('__gate_share')!;
  const cookieValues = l.setCookies.map((c) => c.split(';')[0]!.split('=').slice(1).join('='));
  secrets = [l.grant.accessToken, l.grant.refreshToken, ...cookieValues, ...cookieValues.map((v) => v.slice(2)), shareToken];
});
afterAll(() => closeAll(stack, app));

const host = () => stack.previewHost(sbx, 3000);
function expectNoSecretReachedApp() {
  const everything = app.dump();
  for (const s of secrets) expect(everything).not.toContain(s);
}

describe('credential smuggling into the app', () => {
  it('several Cookie header lines (raw socket): our cookies are still removed', async () => {
    app.clear();
    const [access, refresh] = l.cookieHeader.split('; ');
    const r = await rawSocket(
      stack.gateway.port,
      `GET /probe HTTP/1.1\r\nHost: ${host()}\r\nCookie: app=1\r\nCookie: ${access}\r\nCookie: ${refresh}; app2=2\r\nConnection: close\r\n\r\n`,
    );
    expect(r.status).toBe(200);
    expect(app.seen).toHaveLength(1);
    expectNoSecretReachedApp();
    expect(String(app.seen[0]!.headers.cookie)).toContain('app=1');
  });

  it('cookie spelling tricks (whitespace, look-alike names) never carry our cookie values through', async () => {
    app.clear();
    const token = l.grant.accessToken;
    for (const cookie of [
      `app=1;   __Host-pg-access=${token}  ;x=2`,
      `app=1;__Host-pg-access =${token}`,
      `\t__Host-pg-access=${token}`,
      `app=1; __Host-pg-access=${token}; __Host-pg-access=${token}`,
    ]) {
      const r = await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie } });
      expect([cookie, r.status]).toEqual([cookie, 200]);
    }
    expectNoSecretReachedApp();
  });

  it('our query parameters repeated, percent-encoded or plus-encoded are all removed before the app', async () => {
    app.clear();
    const t = shareToken;
    for (const q of [
      `__gate_share=${t}&__gate_share=${t}`,
      `%5F_gate_share=${t}`,
      `%5f%5fgate%5fshare=${t}`,
      `__gate_share=${t}&%5F_gate_ticket=${t}&keep=1`,
      `keep=1&__gate_share=${t}&&`,
    ]) {
      const r = await stack.requestPreview(sbx, 3000, `/probe?${q}`, { headers: { accept: 'application/json' } });
      expect([q, r.status]).toEqual([q, 200]);
    }
    expectNoSecretReachedApp();
  });

  it('a share token whose parameter name the gateway does not read is not a credential (and so never needs stripping)', async () => {
    // `__gate_share%00` / `__gate_share ` are other names for URLSearchParams: no auth, 401.
    for (const q of [`__gate_share%00=${shareToken}`, `__gate_share%20=${shareToken}`, `__GATE_SHARE=${shareToken}`]) {
      const r = await stack.requestPreview(sbx, 3000, `/probe?${q}`, { headers: { accept: 'application/json' } });
      expect([q, r.status]).toEqual([q, 401]);
    }
  });

  it('our access token smuggled in Authorization beside an X-Daytona-Preview-Token is refused passage to the app (stripped)', async () => {
    app.clear();
    const r = await stack.requestPreview(sbx, 3000, '/probe', {
      headers: { 'x-daytona-preview-token': l.grant.accessToken, authorization: `Bearer ${l.grant.accessToken}` },
    });
    expect(r.status).toBe(200);
    expectNoSecretReachedApp();
  });

  it('a second Authorization line carrying our access token is refused passage to the app (duplicate-header differential)', async () => {
    app.clear();
    // Node keeps the FIRST Authorization for req.headers (what authenticate reads); the hygiene
    // step iterates all raw lines joined with ", " (what the app gets).
    const r = await rawSocket(
      stack.gateway.port,
      `GET /probe HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer app-own-token\r\nAuthorization: Bearer ${l.grant.accessToken}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`,
    );
    expect(r.status).toBe(200);
    expectNoSecretReachedApp();
  });

  it('hop-by-hop abuse (`Connection: x-preview-gate-identity`) stripping the identity assertion is refused', async () => {
    app.clear();
    const r = await stack.requestPreview(sbx, 3000, '/probe', {
      headers: { cookie: l.cookieHeader, connection: 'keep-alive, x-preview-gate-identity' },
    });
    expect(r.status).toBe(200);
    expect(app.seen[0]!.headers['x-preview-gate-identity']).toBeTruthy();
  });

  it('hop-by-hop abuse cannot strip the Daytona token or re-inject our credential headers', async () => {
    app.clear();
    const r = await stack.requestPreview(sbx, 3000, '/probe', {
      headers: { cookie: l.cookieHeader, connection: 'x-daytona-preview-token, x-daytona-skip-preview-warning, x-forwarded-host, cookie' },
    });
    expect(r.status).toBe(200);
    expectNoSecretReachedApp();
    expect(JSON.stringify(r.text)).not.toContain(stack.emulator.standardToken(sbx));
  });

  it('the Daytona token never reaches the app either (Daytona strips it) and no client X-Daytona-* steers the proxy', async () => {
    app.clear();
    await stack.requestPreview(sbx, 3000, '/probe', {
      headers: {
        cookie: l.cookieHeader,
        'x-daytona-disable-cors': 'false',
        'X-Daytona-Skip-Last-Activity-Update': 'true',
        'x-daytona-preview-token': l.grant.accessToken,
      },
    });
    const seen = app.seen[0]!;
    expect(app.dump()).not.toContain(stack.emulator.standardToken(sbx));
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-daytona-skip-last'))).toEqual([]);
  });

  it("an app cannot plant the gateway's cookies (any spelling of __Host-pg-*) on the preview origin", async () => {
    const r = await stack.requestPreview(sbx, 3000, '/set-cookie', { headers: { cookie: l.cookieHeader } });
    expect(r.status).toBe(200);
    // Exact (case-sensitive) cookie names are what the gateway reads; `__host-pg-*` is another
    // cookie the gateway ignores, so letting it through is harmless.
    const planted = r.setCookies.filter((c) => /^\s*__Host-pg-/.test(c));
    expect(planted).toEqual([]);
    expect(r.setCookies.some((c) => c.startsWith('app=1'))).toBe(true);
  });
});

describe("the app planting the gateway's cookies through a WebSocket handshake answer", () => {
  const upgrade = (path: string) =>
    rawSocket(
      stack.gateway.port,
      `GET ${path} HTTP/1.1\r\nHost: ${host()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\n\r\n`,
      1500,
    );

  it("an app's Set-Cookie __Host-pg-* on its 101 answer is refused (never reaches the browser)", async () => {
    const r = await upgrade('/ws-plant-101');
    expect(r.status).toBe(101);
    expect(r.head).not.toMatch(/set-cookie:\s*__Host-pg-/i);
  });

  it("an app's Set-Cookie __Host-pg-* on its refusal (non-101) is refused (never reaches the browser)", async () => {
    const r = await upgrade('/ws-plant-403');
    expect(r.status).toBe(403);
    expect(r.head).not.toMatch(/set-cookie:\s*__Host-pg-/i);
  });
});

describe('WebSocket handshake hygiene', () => {
  it('our access token in Authorization on an upgrade authenticated by X-Daytona-Preview-Token is refused passage (not relayed)', async () => {
    app.clear();
    await rawSocket(
      stack.gateway.port,
      `GET /ws-any HTTP/1.1\r\nHost: ${host()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\nAuthorization: Bearer ${l.grant.accessToken}\r\nCookie: ${l.cookieHeader}; app=1\r\n\r\n`,
      1500,
    );
    expect(app.seen).toHaveLength(1);
    expectNoSecretReachedApp();
  });
});

describe('request smuggling', () => {
  it('Content-Length + Transfer-Encoding (CL.TE / TE.CL) is refused, and nothing is smuggled to the app', async () => {
    app.clear();
    const smuggled = `GET /smuggled HTTP/1.1\r\nHost: ${host()}\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\n\r\n`;
    const r1 = await rawSocket(
      stack.gateway.port,
      `POST /probe HTTP/1.1\r\nHost: ${host()}\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    const r2 = await rawSocket(
      stack.gateway.port,
      `POST /probe HTTP/1.1\r\nHost: ${host()}\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
    );
    const r3 = await rawSocket(
      stack.gateway.port,
      `POST /probe HTTP/1.1\r\nHost: ${host()}\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`,
    );
    for (const r of [r1, r2, r3]) expect([0, 400]).toContain(r.status);
    expect(app.seen.map((s) => s.url)).not.toContain('/smuggled');
  });

  it('request targets the router could misread: `*`, no leading slash, the internal /~pv prefix on the gateway origin', async () => {
    const gw = `127.0.0.1:${stack.gateway.port}`;
    for (const [target, h] of [
      ['*', host()],
      ['probe', host()],
      ['/~pv/__gate/status', gw],
      ['/~pv/probe', gw],
      ['/~gw/healthz', host()],
      ['/~xx/healthz', host()],
    ] as const) {
      const r = await rawSocket(
        stack.gateway.port,
        `GET ${target} HTTP/1.1\r\nHost: ${h}\r\nX-Daytona-Preview-Token: ${l.grant.accessToken}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
      );
      if (target.startsWith('/~gw') || target.startsWith('/~xx')) {
        // On a preview host this is just an app path (forwarded, authenticated): never the gateway's /healthz.
        expect([target, r.body.includes('"status":"ok"') && !r.body.includes('"url"')]).toEqual([target, false]);
      } else {
        expect([target, [400, 404].includes(r.status)]).toEqual([target, true]);
      }
    }
  });
});
