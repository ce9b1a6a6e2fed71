/**
 * Apps on several ports of one sandbox (docs/interface.md, "Apps on several ports";
 * broker/core/tokens/sibling-origins.ts). Threats: a token minted for one granted port used on
 * another port or sandbox; a port outside the grant reached through the grant (its token, its
 * cookie, a WebSocket from it, a ticket for it); a sibling code exchanged by someone other than
 * the page that opened the preview, or on the wrong origin; a refused port slipped into a launch.
 * Every refusal sits beside its positive control. Real gateway, real emulator, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import type { SiblingToken, TokenGrant } from '../../protocol/index.js';
import { cookieHeaderOf, startStack, type Stack } from '../support/stack.js';
import { tryWebSocket } from './attack-support.js';

const MAIN = 3000;
const API = 8080; // the emulator's inspector runs on 3000 and 8080 of every sample sandbox
const OUTSIDE = 5000; // a port of the same sandbox that no launch below grants

type Exchanged = TokenGrant & { sessionId: string; siblingLaunches?: { origin: string; port: number; code: string }[] };

let stack: Stack;
let policyServer: http.Server;
const policyAsked: number[] = [];

async function createLaunch(user: string, sandboxId: string, body: Record<string, unknown>) {
  const session = await stack.mintUserSession(user);
  return stack.requestGateway('/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId, port: MAIN, ...body }),
  });
}

/** Launch + main exchange, as the bootstrap does it. */
async function launchPorts(ports: number[], sandboxId = stack.sandboxes.open) {
  const created = await createLaunch('bob', sandboxId, { ports });
  expect(created.status).toBe(201);
  const code = new URLSearchParams(new URL(created.json<{ url: string }>().url).hash.slice(1)).get('code')!;
  const main = stack.previewOrigin(sandboxId, MAIN);
  const ex = await stack.requestPreview(sandboxId, MAIN, '/__gate/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: main },
    body: JSON.stringify({ code }),
  });
  expect(ex.status).toBe(200);
  return { created: created.json<Record<string, unknown>>(), grant: ex.json<Exchanged>(), mainCookie: cookieHeaderOf(ex.setCookies), main, sandboxId };
}

/** The sibling's cookie exchange, as the main origin's bootstrap sends it. */
function siblingExchange(sandboxId: string, port: number, code: string, origin: string | undefined) {
  return stack.requestPreview(sandboxId, port, '/__gate/session', {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...(origin ? { origin } : {}) },
    body: JSON.stringify({ code, cookieMode: 'lax' }),
  });
}

const code = (r: { text: string }) => (JSON.parse(r.text) as { error: { code: string } }).error.code;
const sibling = (g: TokenGrant, port: number): SiblingToken => g.siblings!.find((s) => s.port === port)!;

beforeAll(async () => {
  // A host app's policy (GATE_POLICY_URL) that refuses port 9000 and allows the rest: the
  // per-port decision of a several-port launch.
  policyServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { port } = JSON.parse(body) as { port: number };
      policyAsked.push(port);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ allow: port !== 9000, ttlSeconds: 0 }));
    });
  });
  await new Promise<void>((r) => policyServer.listen(0, '127.0.0.1', r));
  stack = await startStack();
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await new Promise((r) => policyServer?.close(r));
});

describe('several-port launch: each port decided on its own', () => {
  it('a launch with ports answers every granted origin; each port went through the port rules and the policy', async () => {
    const { created, grant } = await launchPorts([API]);
    expect(created.ports).toEqual([MAIN, API]);
    expect((created.origins as Record<string, string>)[String(API)]).toBe(stack.previewOrigin(stack.sandboxes.open, API));
    expect(grant.siblings?.map((s) => s.port)).toEqual([API]);
    expect(grant.siblingLaunches?.map((s) => s.port)).toEqual([API]);
  });

  it('a reserved port in ports is refused with its code (reserved_port), and nothing is launched', async () => {
    const res = await createLaunch('bob', stack.sandboxes.open, { ports: [API, 22222] });
    expect(res.status).toBe(403);
    expect(code(res)).toBe('reserved_port');
  });

  it('malformed ports are refused (bad_request): not an array, a string, 0, too many', async () => {
    for (const ports of [API, ['8080'], [0], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      const res = await createLaunch('bob', stack.sandboxes.open, { ports });
      expect(res.status).toBe(400);
      expect(code(res)).toBe('bad_request');
    }
  });

  it('a user the sandbox policy refuses cannot get it through ports either (forbidden); positive: the allowed user can', async () => {
    const refused = await createLaunch('mallory', stack.sandboxes.restricted, { ports: [API] });
    expect(refused.status).toBe(403);
    expect(code(refused)).toBe('forbidden');
    expect((await createLaunch('alice', stack.sandboxes.restricted, { ports: [API] })).status).toBe(201);
  });

  it('a port the host app policy refuses is refused by name (forbidden, port 9000); positive: the same launch without it passes', async () => {
    const s = await startStack({ gateway: { policyUrl: `http://127.0.0.1:${(policyServer.address() as AddressInfo).port}/policy` } });
    try {
      const session = await s.mintUserSession('bob');
      const post = (ports: number[]) =>
        s.requestGateway('/api/previews', {
          method: 'POST',
          headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sandboxId: s.sandboxes.open, port: MAIN, ports }),
        });
      policyAsked.length = 0;
      const refused = await post([API, 9000]);
      expect(refused.status).toBe(403);
      expect(code(refused)).toBe('forbidden');
      expect(refused.text).toContain('port 9000');
      expect(policyAsked).toEqual([MAIN, API, 9000]);
      expect((await post([API])).status).toBe(201);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('tokens stay scoped to one origin', () => {
  it("a sibling token for port 8080 opens 8080 and nothing else (not 3000, not a port outside the grant, not another sandbox's 8080)", async () => {
    const { grant } = await launchPorts([API]);
    const t = sibling(grant, API);
    expect(decodeJwt(t.accessToken)).toMatchObject({ aud: stack.previewOrigin(stack.sandboxes.open, API), port: API, grp: [MAIN, API] });
    const h = { 'x-daytona-preview-token': t.accessToken };
    expect((await stack.requestPreview(stack.sandboxes.open, API, '/api/echo', { headers: h })).status).toBe(200);
    for (const [sbx, port] of [
      [stack.sandboxes.open, MAIN],
      [stack.sandboxes.open, OUTSIDE],
      [stack.sandboxes.other, API],
    ] as const) {
      const res = await stack.requestPreview(sbx, port, '/api/echo', { headers: h });
      expect(res.status).toBe(403);
      expect(code(res)).toBe('wrong_scope');
    }
  });

  it('the main token opens the main port only (a port outside the grant is refused, wrong_scope)', async () => {
    const { grant } = await launchPorts([API]);
    const h = { 'x-daytona-preview-token': grant.accessToken };
    expect((await stack.requestPreview(stack.sandboxes.open, MAIN, '/api/echo', { headers: h })).status).toBe(200);
    for (const port of [API, OUTSIDE]) expect(code(await stack.requestPreview(stack.sandboxes.open, port, '/api/echo', { headers: h }))).toBe('wrong_scope');
  });

  it("a worker's renewal on the main origin renews the siblings' tokens too, each still scoped to its origin", async () => {
    const { grant, main } = await launchPorts([API]);
    const res = await stack.requestPreview(stack.sandboxes.open, MAIN, '/__gate/refresh', {
      method: 'POST',
      headers: { authorization: `Bearer ${grant.refreshToken}`, origin: main },
    });
    expect(res.status).toBe(200);
    const renewed = res.json<TokenGrant>();
    expect(renewed.siblings?.map((s) => [s.port, decodeJwt(s.accessToken).aud])).toEqual([[API, stack.previewOrigin(stack.sandboxes.open, API)]]);
    expect(
      (await stack.requestPreview(stack.sandboxes.open, API, '/api/echo', { headers: { 'x-daytona-preview-token': sibling(renewed, API).accessToken } }))
        .status,
    ).toBe(200);
  });
});

describe('sibling cookie exchange', () => {
  it('the sibling code sets the sibling origin its own cookies, CORS-readable by the main origin only; positive control first', async () => {
    const { grant, main, sandboxId } = await launchPorts([API]);
    const launch = grant.siblingLaunches![0]!;
    expect(launch.origin).toBe(stack.previewOrigin(sandboxId, API));
    const ok = await siblingExchange(sandboxId, API, launch.code, main);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(main);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.setCookies.some((c) => c.startsWith('__Host-pg-access='))).toBe(true);
    expect(ok.text).not.toMatch(/accessToken|refreshToken/); // the credential stays in the HttpOnly cookies
    const cookie = cookieHeaderOf(ok.setCookies);
    expect((await stack.requestPreview(sandboxId, API, '/api/echo', { headers: { cookie } })).status).toBe(200);
    // Replayed: one use only (refused 403 like any other page's POST to /__gate/session).
    const replay = await siblingExchange(sandboxId, API, launch.code, main);
    expect(replay.status).toBe(403);
    expect(replay.setCookies).toEqual([]);
  });

  it('a sibling code posted from any other page (a port outside the grant, another sandbox, no Origin) is refused; a code posted by the wrong page stays usable', async () => {
    const { grant, sandboxId } = await launchPorts([API]);
    const launch = grant.siblingLaunches![0]!;
    const foreign = await siblingExchange(sandboxId, API, launch.code, stack.previewOrigin(sandboxId, OUTSIDE));
    expect(foreign.status).toBe(403);
    expect(code(foreign)).toBe('origin_forbidden');
    expect(foreign.setCookies).toEqual([]);
    const other = await siblingExchange(sandboxId, API, launch.code, stack.previewOrigin(stack.sandboxes.other, MAIN));
    expect(code(other)).toBe('origin_forbidden');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Without Origin it is an ordinary exchange, which never takes a sibling code.
    expect(code(await siblingExchange(sandboxId, API, launch.code, undefined))).toBe('invalid_code');
    // A main launch code posted by a sibling page is refused the same way, and stays usable.
    const created = await createLaunch('bob', sandboxId, { ports: [API] });
    const mainCode = new URLSearchParams(new URL(created.json<{ url: string }>().url).hash.slice(1)).get('code')!;
    expect(code(await siblingExchange(sandboxId, MAIN, mainCode, stack.previewOrigin(sandboxId, API)))).toBe('origin_forbidden');
    const ok = await stack.requestPreview(sandboxId, MAIN, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.previewOrigin(sandboxId, MAIN) },
      body: JSON.stringify({ code: mainCode }),
    });
    expect(ok.status).toBe(200);
  });

  it('a sibling code is refused on the main origin (invalid_code) and on a port outside the grant (origin_forbidden)', async () => {
    const { grant, main, sandboxId } = await launchPorts([API]);
    const onMain = await stack.requestPreview(sandboxId, MAIN, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: main },
      body: JSON.stringify({ code: grant.siblingLaunches![0]!.code }),
    });
    expect(code(onMain)).toBe('invalid_code');
    const other = await launchPorts([API]);
    expect(code(await siblingExchange(sandboxId, OUTSIDE, other.grant.siblingLaunches![0]!.code, main))).toBe('origin_forbidden');
  });
});

describe('cookies and WebSockets from sibling pages', () => {
  async function siblingCookie() {
    const l = await launchPorts([API]);
    const ex = await siblingExchange(l.sandboxId, API, l.grant.siblingLaunches![0]!.code, l.main);
    return { ...l, apiCookie: cookieHeaderOf(ex.setCookies) };
  }
  const fromPage = (origin: string) => ({ origin, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' });

  it("the sibling's cookie counts on a credentialed fetch from the granted main page; from a port outside the grant or another sandbox it is ignored", async () => {
    const { apiCookie, main, sandboxId } = await siblingCookie();
    const ok = await stack.requestPreview(sandboxId, API, '/api/echo', { method: 'POST', headers: { cookie: apiCookie, ...fromPage(main) }, body: '{}' });
    expect(ok.status).toBe(200);
    for (const page of [stack.previewOrigin(sandboxId, OUTSIDE), stack.previewOrigin(stack.sandboxes.other, MAIN)]) {
      const res = await stack.requestPreview(sandboxId, API, '/api/echo', { method: 'POST', headers: { cookie: apiCookie, ...fromPage(page) }, body: '{}' });
      expect(res.status).toBe(401);
      expect(code(res)).toBe('missing_credential');
    }
  });

  it("a one-port session's cookie is not ridden by another port's page (the sibling rule needs a grant)", async () => {
    const one = await stack.launch('bob', stack.sandboxes.open, API);
    const res = await stack.requestPreview(stack.sandboxes.open, API, '/api/echo', {
      method: 'POST',
      headers: { cookie: one.cookieHeader, ...fromPage(stack.previewOrigin(stack.sandboxes.open, MAIN)) },
      body: '{}',
    });
    expect(code(res)).toBe('missing_credential');
  });

  it('a WebSocket from the granted main page to the sibling opens with its cookie; from a port outside the grant the cookie is ignored and a ticket refused', async () => {
    const { apiCookie, mainCookie, main, sandboxId } = await siblingCookie();
    const outsidePage = stack.previewOrigin(sandboxId, OUTSIDE);
    const ws = (origin: string) =>
      tryWebSocket(stack.gateway.port, stack.previewHost(sandboxId, API), '/ws', { cookie: apiCookie, origin, 'sec-fetch-site': 'same-site' });
    expect(await ws(main)).toEqual({ opened: true, echo: 'ping' });
    const out = await ws(outsidePage);
    expect(out).toMatchObject({ opened: false, status: 401 });
    if (!out.opened) expect(JSON.parse(out.body).error.code).toBe('missing_credential');
    // A valid ticket for 8080 (asked by the main page) used from a page outside the grant.
    const t = await stack.requestPreview(sandboxId, MAIN, `/__gate/ws-ticket?port=${API}`, { method: 'POST', headers: { cookie: mainCookie, origin: main } });
    const ticket = t.json<{ ticket: string }>().ticket;
    const hijack = await tryWebSocket(stack.gateway.port, stack.previewHost(sandboxId, API), `/ws?__gate_ticket=${ticket}`, { origin: outsidePage });
    expect(hijack).toMatchObject({ opened: false, status: 403 });
    if (!hijack.opened) expect(JSON.parse(hijack.body).error.code).toBe('origin_forbidden');
  });

  it("a ticket for a granted sibling port (asked on the main origin) opens the sibling's WebSocket from the main page; a port outside the grant gets none", async () => {
    const { mainCookie, main, sandboxId } = await siblingCookie();
    const ask = (port: number) =>
      stack.requestPreview(sandboxId, MAIN, `/__gate/ws-ticket?port=${port}`, { method: 'POST', headers: { cookie: mainCookie, origin: main } });
    const t = await ask(API);
    expect(t.status).toBe(200);
    const ticket = t.json<{ ticket: string }>().ticket;
    const open = await tryWebSocket(stack.gateway.port, stack.previewHost(sandboxId, API), `/ws?__gate_ticket=${ticket}`, { origin: main });
    expect(open).toEqual({ opened: true, echo: 'ping' });
    const outside = await ask(OUTSIDE);
    expect(outside.status).toBe(403);
    expect(code(outside)).toBe('wrong_scope');
    // A sibling ticket is for its port only: not the main one.
    const t2 = (await ask(API)).json<{ ticket: string }>().ticket;
    const wrong = await tryWebSocket(stack.gateway.port, stack.previewHost(sandboxId, MAIN), `/ws?__gate_ticket=${t2}`, { origin: main });
    expect(wrong).toMatchObject({ opened: false, status: 403 });
  });

  it("the sibling's refresh chain is bound to its origin: refused on the main origin (wrong_scope)", async () => {
    const { apiCookie, main, sandboxId } = await siblingCookie();
    const refreshCookie = apiCookie.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;
    const onApi = await stack.requestPreview(sandboxId, API, '/__gate/refresh', {
      method: 'POST',
      headers: { cookie: refreshCookie, origin: stack.previewOrigin(sandboxId, API) },
    });
    expect(onApi.status).toBe(200);
    expect(decodeJwt(onApi.json<TokenGrant>().accessToken).port).toBe(API);
    const renewed = cookieHeaderOf(onApi.setCookies)
      .split('; ')
      .find((c) => c.startsWith('__Host-pg-refresh='))!;
    const onMain = await stack.requestPreview(sandboxId, MAIN, '/__gate/refresh', { method: 'POST', headers: { cookie: renewed, origin: main } });
    expect(onMain.status).toBe(403);
    expect(code(onMain)).toBe('wrong_scope');
  });
});
