/**
 * The integration mistakes a newcomer makes first, as the product reports them: an unreachable
 * identity provider (a distinct coded 503, not "invalid session"), a sandbox whose label does
 * not open it (the label and value that would), a host page origin missing from
 * GATE_ALLOWED_ORIGINS (logged once with the fix, readable verdict for the embed); and
 * authorisation without code: GATE_POLICY_URL against a real local HTTP server, and ending
 * every preview session of a user or a sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, generateKeyPair } from 'jose';
import { startIdp, type Idp } from '../support/idp.js';
import { makeGateway, SBX, SBX_ALICE, SBX_NOLABEL } from '../gateway/helpers.js';

interface Local {
  url: string;
  hits: { body: Record<string, unknown>; authorization: string | undefined }[];
  answer: (body: Record<string, unknown>) => { status: number; body: string };
  close(): Promise<void>;
}

async function localServer(answer: Local['answer']): Promise<Local> {
  const local: Local = { url: '', hits: [], answer, close: async () => {} };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      local.hits.push({ body, authorization: req.headers.authorization });
      const a = local.answer(body);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  local.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  local.close = () => new Promise<void>((r) => server.close(() => r()));
  return local;
}

/** A port with nothing listening: bind, note the port, close. */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}/jwks.json`;
}

let idp: Idp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp?.close());

const idpToken = (sub: string, now: number) => idp.token({ sub }, now);

describe('an unreachable identity provider', () => {
  it('is a coded 503 identity_provider_unavailable, not an invalid session (a reachable one verifies)', async () => {
    const good = await makeGateway({ userJwtSecret: undefined, userJwksUrl: idp.jwksUrl });
    const post = (t: typeof good, token: string) =>
      t.api('/api/previews', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ sandboxId: SBX, port: 3000 }) });
    expect((await post(good, await idpToken('bob', good.clock.now()))).status).toBe(201);

    const down = await makeGateway({ userJwtSecret: undefined, userJwksUrl: await deadUrl() });
    const res = await post(down, await idpToken('bob', down.clock.now()));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = await res.json();
    expect(body.error.code).toBe('identity_provider_unavailable');
    expect(body.error.message).toContain('GATE_USER_JWKS_URL');

    const broken = await localServer(() => ({ status: 500, body: 'oops' }));
    const failing = await makeGateway({ userJwtSecret: undefined, userJwksUrl: broken.url });
    expect((await (await post(failing, await idpToken('bob', failing.clock.now()))).json()).error.code).toBe('identity_provider_unavailable');
    await broken.close();
  });

  it('a session the reachable provider did not sign stays invalid_token (401)', async () => {
    const t = await makeGateway({ userJwtSecret: undefined, userJwksUrl: idp.jwksUrl });
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setSubject('bob')
      .setExpirationTime(Math.floor(t.clock.now() / 1000) + 600)
      .sign(other.privateKey);
    const res = await t.api('/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}` },
      body: JSON.stringify({ sandboxId: SBX, port: 3000 }),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('invalid_token');
  });
});

describe('a sandbox the label does not open', () => {
  it('is refused naming the label and the value that would open it, never the users it lists', async () => {
    const t = await makeGateway();
    const launch = (user: string, sandboxId: string) => t.api('/api/previews', { method: 'POST', user, body: JSON.stringify({ sandboxId, port: 3000 }) });
    expect((await launch('alice', SBX_ALICE)).status).toBe(201); // positive control: listed
    const res = await launch('dave', SBX_ALICE);
    expect(res.status).toBe(403);
    const { message } = (await res.json()).error;
    expect(message).toContain('"preview-gate.users"');
    expect(message).toContain('"dave"');
    expect(message.replaceAll(SBX_ALICE, '')).not.toContain('alice'); // the sandbox id itself is sbx-alice
    expect(message).not.toContain('carol');
    expect((await (await launch('dave', SBX_NOLABEL)).json()).error.message).toContain('preview-gate.users');
  });
});

describe('a host page origin missing from GATE_ALLOWED_ORIGINS', () => {
  it('is logged once per origin with the fix, and /api/cors-check tells the page (an allowed origin is not)', async () => {
    const t = await makeGateway({ allowedOrigins: ['https://ide.example'] });
    const preflight = (origin: string) => t.preflight(origin);
    const refused = await preflight('https://new-app.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull(); // CORS itself stays closed
    await preflight('https://new-app.example');
    expect((await preflight('https://ide.example')).headers.get('access-control-allow-origin')).toBe('https://ide.example');
    const warnings = t.logs.filter((l) => l.event === 'origin_not_allowed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ origin: 'https://new-app.example', fix: expect.stringContaining('GATE_ALLOWED_ORIGINS') });

    const check = await t.api('/api/cors-check', { headers: { origin: 'https://new-app.example' } });
    expect(check.headers.get('access-control-allow-origin')).toBe('https://new-app.example');
    const verdict = await check.json();
    expect(verdict).toMatchObject({ allowed: false, error: { code: 'origin_forbidden' } });
    expect(verdict.error.message).toContain('GATE_ALLOWED_ORIGINS=https://new-app.example');
    expect(await (await t.api('/api/cors-check', { headers: { origin: 'https://ide.example' } })).json()).toEqual({
      origin: 'https://ide.example',
      allowed: true,
    });
  });
});

describe('GATE_POLICY_URL (a real local HTTP endpoint of the host app)', () => {
  it('asks the host app, obeys allow and deny, caches the answer briefly, and sends its token', async () => {
    const policy = await localServer((b) => ({ status: 200, body: JSON.stringify({ allow: b.userId === 'ana' && b.port === 3000 }) }));
    try {
      const t = await makeGateway({ policyUrl: policy.url, policyToken: 'policy-token-1', policyCacheSeconds: 10 });
      const launch = (user: string, port = 3000) => t.api('/api/previews', { method: 'POST', user, body: JSON.stringify({ sandboxId: SBX_NOLABEL, port }) });
      expect((await launch('ana')).status).toBe(201); // no label on the sandbox: the endpoint decided
      expect(policy.hits[0]).toMatchObject({ authorization: 'Bearer policy-token-1', body: { userId: 'ana', sandboxId: SBX_NOLABEL, port: 3000, labels: {} } });
      const denied = await launch('bob');
      expect(denied.status).toBe(403);
      expect((await denied.json()).error.message).toContain("host application's policy");
      expect((await launch('ana', 8080)).status).toBe(403);
      const asked = policy.hits.length;
      expect((await launch('ana')).status).toBe(201);
      expect(policy.hits.length).toBe(asked); // cached
      t.clock.advance(11_000);
      expect((await launch('ana')).status).toBe(201);
      expect(policy.hits.length).toBe(asked + 1); // asked again after the cache time
    } finally {
      await policy.close();
    }
  });

  it('a failing or nonsensical policy endpoint refuses with a coded 503 policy_unavailable (fail closed)', async () => {
    let mode: 'error' | 'nonsense' | 'ok' = 'error';
    const policy = await localServer(() =>
      mode === 'error' ? { status: 500, body: '{}' } : mode === 'nonsense' ? { status: 200, body: '{"allow":"yes"}' } : { status: 200, body: '{"allow":true}' },
    );
    try {
      const t = await makeGateway({ policyUrl: policy.url });
      const launch = () => t.api('/api/previews', { method: 'POST', user: 'ana', body: JSON.stringify({ sandboxId: SBX_NOLABEL, port: 3000 }) });
      const failed = await launch();
      expect(failed.status).toBe(503);
      expect((await failed.json()).error.code).toBe('policy_unavailable');
      mode = 'nonsense';
      expect((await (await launch()).json()).error.code).toBe('policy_unavailable');
      mode = 'ok';
      expect((await launch()).status).toBe(201); // failures are not cached
      const down = await makeGateway({ policyUrl: await deadUrl() });
      expect(
        (await (await down.api('/api/previews', { method: 'POST', user: 'ana', body: JSON.stringify({ sandboxId: SBX, port: 3000 }) })).json()).error.code,
      ).toBe('policy_unavailable');
    } finally {
      await policy.close();
    }
  });
});

describe('ending every preview session of a user or a sandbox', () => {
  const SERVICE = 'service-token-0123456789abcdef-0123456789';

  it("the service credential ends a user's sessions; their previews are then refused (others keep working)", async () => {
    const t = await makeGateway({ serviceToken: SERVICE });
    const a1 = await t.launch('ana', SBX);
    const a2 = await t.launch('ana', 'sbx-other');
    const b = await t.launch('bob', SBX);
    const end = await t.api('/api/previews?userId=ana', { method: 'DELETE', headers: { authorization: `Bearer ${SERVICE}` } });
    expect(end.status).toBe(200);
    expect(await end.json()).toEqual({ ended: 2 });
    expect((await t.preview('/', { headers: { cookie: a1.cookie } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: a2.cookie } }, 'sbx-other')).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: b.cookie } })).status).toBe(200);
  });

  it("the service credential ends a sandbox's sessions of every user", async () => {
    const t = await makeGateway({ serviceToken: SERVICE });
    const a = await t.launch('ana', SBX);
    const b = await t.launch('bob', SBX);
    const other = await t.launch('bob', 'sbx-other');
    const end = await t.api(`/api/previews?sandboxId=${SBX}`, { method: 'DELETE', headers: { authorization: `Bearer ${SERVICE}` } });
    expect(await end.json()).toEqual({ ended: 2 });
    expect((await t.preview('/', { headers: { cookie: a.cookie } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: b.cookie } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: other.cookie } }, 'sbx-other')).status).toBe(200);
  });

  it("a user session ends only its own sessions; another user's is refused, and so is a wrong service token", async () => {
    const t = await makeGateway({ serviceToken: SERVICE });
    const a = await t.launch('ana', SBX);
    const b = await t.launch('bob', SBX);
    const other = await t.api('/api/previews?userId=bob', { method: 'DELETE', user: 'ana' });
    expect(other.status).toBe(403);
    const wrong = await t.api('/api/previews?userId=bob', { method: 'DELETE', headers: { authorization: `Bearer ${SERVICE.replace('0', 'x')}` } });
    expect(wrong.status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: b.cookie } })).status).toBe(200);
    const own = await t.api('/api/previews', { method: 'DELETE', user: 'ana' });
    expect(await own.json()).toEqual({ ended: 1 });
    expect((await t.preview('/', { headers: { cookie: a.cookie } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: b.cookie } })).status).toBe(200);
  });
});
