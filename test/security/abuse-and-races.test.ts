/**
 * Threats: resource abuse with bounded inputs (huge headers, huge or endless JSON bodies,
 * prototype-pollution JSON), WebSocket tickets used across ports or on plain HTTP, refresh
 * rotation races and reuse, revocation timing, and credentials leaking through /metrics.
 * Every input here is bounded, on loopback, and short.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { rawSocket, startAttackRig, tryWebSocket, type Recorder } from './attack-support.js';

let stack: Stack;
let app: Recorder;
let sbx: string;

beforeAll(async () => {
  ({ stack, app, sbx } = await startAttackRig());
});
afterAll(() => closeAll(stack, app));

async function ticket(l: LaunchResult, port = 3000) {
  const r = await stack.requestPreview(sbx, port, '/__gate/ws-ticket', {
    method: 'POST',
    headers: { cookie: l.cookieHeader, origin: stack.previewOrigin(sbx, port) },
  });
  expect(r.status).toBe(200);
  return r.json<{ ticket: string }>().ticket;
}

const user = async (id = 'bob') => `Bearer ${await stack.mintUserSession(id)}`;

describe('bounded abuse', () => {
  it('a huge header block is refused (431/400) and the gateway keeps serving', async () => {
    const r = await rawSocket(stack.gateway.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(70_000)}\r\nConnection: close\r\n\r\n`);
    expect([0, 400, 431]).toContain(r.status);
    expect((await stack.requestGateway('/healthz')).status).toBe(200);
  });

  it('a huge JSON body on /api and /__gate/session is cut at the cap: 413, by declaration or by streaming', async () => {
    const body = JSON.stringify({ sandboxId: sbx, port: 3000, pad: 'x'.repeat(200_000) });
    const declared = await stack.requestGateway('/api/previews', {
      method: 'POST',
      headers: { authorization: await user(), 'content-type': 'application/json' },
      body,
    });
    expect(declared.status).toBe(413);
    // Chunked (no Content-Length): the stream is cut once past the cap.
    const chunk = 'x'.repeat(8192);
    let payload = `POST /__gate/session HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    for (let i = 0; i < 8; i++) payload += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    payload += '0\r\n\r\n';
    const chunked = await rawSocket(stack.gateway.port, payload);
    expect(chunked.status).toBe(413);
  });

  it('a slow, never-finished body on /__gate/session does not block other requests', async () => {
    const s = net.connect(stack.gateway.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /__gate/session HTTP/1.1\r\nHost: ${stack.previewHost(sbx, 3000)}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"code":`);
    const t0 = Date.now();
    expect((await stack.requestGateway('/healthz')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    s.destroy();
  });

  it('prototype-pollution JSON is inert (no crash, no inherited fields, no global pollution)', async () => {
    const bodies = [
      `{"__proto__":{"sandboxId":"${sbx}","port":3000,"polluted":true}}`,
      `{"constructor":{"prototype":{"polluted":true}},"sandboxId":"${sbx}","port":3000,"path":{"__proto__":"/x"}}`,
      `{"sandboxId":"${sbx}","port":3000,"__proto__":{"path":"//evil.example"}}`,
    ];
    const statuses: number[] = [];
    for (const body of bodies) {
      statuses.push(
        (await stack.requestGateway('/api/previews', { method: 'POST', headers: { authorization: await user(), 'content-type': 'application/json' }, body }))
          .status,
      );
      const s = await stack.requestPreview(sbx, 3000, '/__gate/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"__proto__":{"code":"x"}}',
      });
      expect(s.status).toBe(400);
    }
    expect(statuses[0]).toBe(400); // sandboxId only "inherited": not accepted
    expect(statuses[1]).toBe(400); // path is not a string
    // `__proto__` as an own key never reaches the landing path: the launch lands on '/'.
    expect(statuses[2]).toBe(201);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('/metrics holds no token, code, cookie value or sandbox credential', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: l.cookieHeader } });
    const m = await stack.requestGateway('/metrics');
    expect(m.status).toBe(200);
    for (const s of [l.grant.accessToken, l.grant.refreshToken, l.code, stack.emulator.standardToken(sbx), stack.emulator.apiKey])
      expect(m.text).not.toContain(s);
  });
});

describe('WebSocket tickets', () => {
  it('a ticket minted on 3000 opens nothing on 8080 or another sandbox (and is burnt by the try)', async () => {
    const ws8080 = (await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } })).id;
    const l = await stack.launch('bob', sbx, 3000);
    const t = await ticket(l);
    const other = await tryWebSocket(stack.gateway.port, stack.previewHost(ws8080, 3000), `/ws?__gate_ticket=${t}`);
    expect(other.opened).toBe(false);
    const t2 = await ticket(l);
    const port8080 = await tryWebSocket(stack.gateway.port, stack.previewHost(sbx, 8080), `/ws?__gate_ticket=${t2}`);
    expect(port8080.opened).toBe(false);
  });

  it('a ticket is no credential for plain HTTP (and is stripped before the app)', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const t = await ticket(l);
    app.clear();
    const r = await stack.requestPreview(sbx, 3000, `/probe?__gate_ticket=${t}`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(401);
    expect(app.seen).toHaveLength(0);
  });
});

describe('refresh races and revocation timing', () => {
  it('20 concurrent cookie renewals with one refresh cookie: all served, ONE successor, session alive', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const refreshOnly = l.cookieHeader.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: refreshOnly, accept: 'application/json' } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const successors = new Set(answers.map((a) => a.setCookies.find((c) => c.startsWith('__Host-pg-refresh='))!.split(';')[0]));
    expect(successors.size).toBe(1);
  });

  it('concurrent Bearer refreshes with one credential: no double chain (one successor)', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const origin = stack.previewOrigin(sbx, 3000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.requestPreview(sbx, 3000, '/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${l.grant.refreshToken}`, origin } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.json<{ refreshToken: string }>().refreshToken)).size).toBe(1);
  });

  it('revocation takes effect on the very next request for every credential path (header, cookie, refresh, ticket)', async () => {
    const l = await stack.launch('bob', sbx, 3000);
    const t = await ticket(l);
    const del = await stack.requestGateway(`/api/previews/${l.sessionId}`, { method: 'DELETE', headers: { authorization: await user() } });
    expect(del.status).toBe(204);
    const refreshOnly = l.cookieHeader.split('; ').find((c) => c.startsWith('__Host-pg-refresh='))!;
    const results = [
      (await stack.requestPreview(sbx, 3000, '/probe', { headers: { 'x-daytona-preview-token': l.grant.accessToken } })).status,
      (await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: l.cookieHeader } })).status,
      (await stack.requestPreview(sbx, 3000, '/probe', { headers: { cookie: refreshOnly } })).status,
      (await stack.requestPreview(sbx, 3000, '/__gate/refresh', { method: 'POST', headers: { authorization: `Bearer ${l.grant.refreshToken}` } })).status,
    ];
    expect(results).toEqual([401, 401, 401, 401]);
    const ws = await tryWebSocket(stack.gateway.port, stack.previewHost(sbx, 3000), `/ws?__gate_ticket=${t}`);
    expect(ws.opened).toBe(false);
  });
});

describe('public-sandbox lookup budget', () => {
  it('a flood of made-up sandbox ids never gets a real PUBLIC sandbox answered "private": it is served, or a retryable 503 until the budget recovers', async () => {
    const control = (await stack.emulator.createSandbox({ public: true, ports: { 3000: { target: app.url } } })).id;
    const pub = (await stack.emulator.createSandbox({ public: true, ports: { 3000: { target: app.url } } })).id;
    expect((await stack.requestPreview(control, 3000, '/probe', { headers: { accept: 'application/json' } })).status).toBe(200);
    // 25 requests for random ids in the same second (PUBLIC_LOOKUPS_PER_SECOND is 20).
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        stack.requestPreview(`made-up-${i}-${Date.now().toString(36)}`, 3000, '/', { headers: { accept: 'application/json' } }),
      ),
    );
    const victim = await stack.requestPreview(pub, 3000, '/probe', { headers: { accept: 'application/json' } });
    // A public sandbox must stay public (or at worst get a retryable 503), never a misleading
    // "private" 401, and never an internal error.
    expect([200, 503]).toContain(victim.status);
    if (victim.status === 503) {
      expect(victim.json<{ error: { code: string } }>().error.code).toBe('daytona_unavailable');
      expect(Number(victim.headers.get('retry-after'))).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1_100)); // the per-second budget is back
      expect((await stack.requestPreview(pub, 3000, '/probe', { headers: { accept: 'application/json' } })).status).toBe(200);
    }
  });
});
