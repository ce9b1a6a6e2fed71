/**
 * Threat: Daytona's standard preview token opens every port of its sandbox, the web terminal
 * (22222) and the toolbox API (2280) included. Daytona strips it before the app only for
 * private sandboxes (docs/daytona.md, "What reaches the app"): an app of a public sandbox would
 * read whatever token the gateway sent, and the app is untrusted code. So the gateway forwards
 * with a signed preview URL (port-scoped) and sends no token header at all (ARCHITECTURE.md
 * flow 13). Everything here runs against the emulator corrected to Daytona's source, through
 * the real gateway, the real SDK and real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, rawRequest, type Stack } from '../support/stack.js';

interface Report {
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  cookies: Record<string, string>;
}

let stack: Stack;
let publicId: string;
let privateId: string;
beforeAll(async () => {
  stack = await startStack({ gateway: { allowPublicSandboxes: true } });
  ({ id: publicId } = await stack.emulator.createSandbox({
    public: true,
    labels: { 'preview-gate.users': '*' },
    ports: { 22222: 'inspector', 2280: 'inspector' },
  }));
  ({ id: privateId } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports: { 22222: 'inspector', 2280: 'inspector' } }));
}, 60_000);
afterAll(() => stack?.close());

/** What the app saw on an HTTP request through the gateway. */
async function seenOverHttp(sandboxId: string, headers: Record<string, string> = {}): Promise<Report> {
  const res = await stack.requestPreview(sandboxId, 3000, '/api/echo?q=1', { headers: { accept: 'application/json', ...headers } });
  expect(res.status).toBe(200);
  return res.json<Report>();
}

/** What the app saw on a WebSocket handshake through the gateway (the inspector's /ws/report). */
function seenOverWebSocket(sandboxId: string, headers: Record<string, string> = {}): Promise<Report> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${stack.gateway.port}/ws/report`, { headers: { host: stack.previewHost(sandboxId, 3000), ...headers } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no report in 10 s'));
    }, 10_000);
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(data.toString()) as Report);
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused: ${res.statusCode}`));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Every string in a report an app could try as a credential: values, and their pieces. */
function candidates(report: Report): string[] {
  const values: string[] = [];
  for (const v of Object.values(report.headers)) values.push(...[v ?? []].flat());
  for (const v of Object.values(report.query)) values.push(...[v].flat());
  values.push(...Object.values(report.cookies), ...Object.keys(report.cookies));
  const out = new Set<string>();
  for (const value of values) {
    out.add(value.trim());
    for (const piece of value.split(/[\s,;=]+/)) {
      if (piece.length < 8) continue;
      out.add(piece);
      out.add(piece.replace(/^Bearer$/i, ''));
      // Hosts: `{port}-{idOrToken}.{domain}:{port}`: the label after the dash is what Daytona reads.
      const label = piece.replace(/^[a-z]+:\/\//, '').split('.')[0] ?? '';
      const dash = label.indexOf('-');
      if (dash > 0) out.add(label.slice(dash + 1));
    }
  }
  return [...out].filter((c) => c.length >= 8);
}

type Attempt = { how: string; status: number };

/** Tries one string every way Daytona's proxy accepts a credential, against `port` of `sandboxId`, directly at the emulator. */
async function tryAtDaytona(sandboxId: string, port: number, credential: string): Promise<Attempt[]> {
  const emu = stack.emulator;
  const sandboxHost = `${port}-${sandboxId}.${emu.proxyDomain}:${emu.port}`;
  const tries: Array<[string, string, string, Record<string, string>]> = [
    ['header', sandboxHost, '/api/echo', { 'x-daytona-preview-token': credential }],
    ['bearer', sandboxHost, '/api/echo', { authorization: `Bearer ${credential}` }],
    ['query', sandboxHost, `/api/echo?DAYTONA_SANDBOX_AUTH_KEY=${encodeURIComponent(credential)}`, {}],
    ['cookie', sandboxHost, '/api/echo', { cookie: `daytona-sandbox-auth-${sandboxId}=${credential}` }],
  ];
  if (/^[a-z0-9-_]+$/i.test(credential)) tries.push(['signed host', `${port}-${credential.toLowerCase()}.${emu.proxyDomain}:${emu.port}`, '/api/echo', {}]);
  const out: Attempt[] = [];
  for (const [how, host, path, headers] of tries) {
    const res = await rawRequest(emu.port, host, path, { headers: { accept: 'application/json', ...headers } });
    out.push({ how, status: res.status });
  }
  return out;
}

function expectNoDaytonaCredential(report: Report, sandboxId: string): void {
  const standard = stack.emulator.standardToken(sandboxId);
  expect(report.headers['x-daytona-preview-token']).toBeUndefined();
  expect(report.headers.authorization).toBeUndefined();
  expect(report.query.DAYTONA_SANDBOX_AUTH_KEY).toBeUndefined();
  expect(Object.keys(report.cookies).filter((n) => n.startsWith('daytona-'))).toEqual([]);
  expect(JSON.stringify(report)).not.toContain(standard);
  expect(JSON.stringify(report)).not.toContain(stack.emulator.apiKey);
  // X-Forwarded-Host: the gateway's host, then the one Daytona appends. The latter may name a
  // signed token, which must be for this very port only.
  const hosts = [report.headers['x-forwarded-host'] ?? []]
    .flat()
    .join(',')
    .split(',')
    .map((h) => h.trim());
  for (const host of hosts) {
    const label = host.split('.')[0] ?? '';
    expect(label.startsWith('3000-')).toBe(true);
  }
}

describe('a public sandbox app never sees a Daytona credential', () => {
  it('the emulator, like Daytona, hands a public app every credential a client sends (why the gateway must send none)', async () => {
    const emu = stack.emulator;
    const token = emu.standardToken(publicId);
    const res = await rawRequest(emu.port, `3000-${publicId}.${emu.proxyDomain}:${emu.port}`, `/api/echo?DAYTONA_SANDBOX_AUTH_KEY=${token}`, {
      headers: { accept: 'application/json', 'x-daytona-preview-token': token, authorization: `Bearer ${emu.apiKey}` },
    });
    expect(res.status).toBe(200);
    const seen = res.json<Report>();
    expect(seen.headers['x-daytona-preview-token']).toBe(token);
    expect(seen.headers.authorization).toBe(`Bearer ${emu.apiKey}`);
    expect(seen.query.DAYTONA_SANDBOX_AUTH_KEY).toBe(token);
    // To a private sandbox Daytona's auth middleware strips the credential it used.
    const privateHost = `3000-${privateId}.${emu.proxyDomain}:${emu.port}`;
    const byHeader = await rawRequest(emu.port, privateHost, '/api/echo', {
      headers: { accept: 'application/json', 'x-daytona-preview-token': emu.standardToken(privateId) },
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.json<Report>().headers['x-daytona-preview-token']).toBeUndefined();
    const byQuery = await rawRequest(emu.port, privateHost, `/api/echo?DAYTONA_SANDBOX_AUTH_KEY=${emu.standardToken(privateId)}`, {
      headers: { accept: 'application/json' },
    });
    expect(byQuery.status).toBe(200);
    expect(byQuery.json<Report>().query.DAYTONA_SANDBOX_AUTH_KEY).toBeUndefined();
  });

  it('visited anonymously over HTTP, the app sees no Daytona token, key or cookie', async () => {
    expectNoDaytonaCredential(await seenOverHttp(publicId), publicId);
  });

  it('visited by a signed-in user over HTTP, the app sees no Daytona token, key or cookie', async () => {
    const l = await stack.launch('bob', publicId, 3000);
    expectNoDaytonaCredential(await seenOverHttp(publicId, { cookie: l.cookieHeader }), publicId);
    expectNoDaytonaCredential(await seenOverHttp(publicId, { 'x-daytona-preview-token': l.grant.accessToken }), publicId);
  });

  it('visited anonymously over a WebSocket, the handshake carries no Daytona credential', async () => {
    expectNoDaytonaCredential(await seenOverWebSocket(publicId), publicId);
  });

  it('visited by a signed-in user over a WebSocket, the handshake carries no Daytona credential', async () => {
    const l = await stack.launch('bob', publicId, 3000);
    const origin = stack.previewOrigin(publicId, 3000);
    expectNoDaytonaCredential(await seenOverWebSocket(publicId, { cookie: l.cookieHeader, origin }), publicId);
  });

  it('a private sandbox app (signed-in, HTTP and WebSocket) sees no Daytona credential either', async () => {
    const l = await stack.launch('bob', privateId, 3000);
    expectNoDaytonaCredential(await seenOverHttp(privateId, { cookie: l.cookieHeader }), privateId);
    expectNoDaytonaCredential(await seenOverWebSocket(privateId, { cookie: l.cookieHeader, origin: stack.previewOrigin(privateId, 3000) }), privateId);
  });
});

describe('nothing an app can read through the gateway opens the web terminal or the toolbox at Daytona', () => {
  it("positive control: Daytona's standard token does open ports 22222 and 2280 directly", async () => {
    for (const id of [publicId, privateId]) {
      for (const port of [22222, 2280]) {
        const attempts = await tryAtDaytona(id, port, stack.emulator.standardToken(id));
        expect(attempts.find((a) => a.how === 'header')?.status).toBe(200);
        expect(attempts.find((a) => a.how === 'query')?.status).toBe(200);
      }
    }
  });

  it('every string the app saw (HTTP and WebSocket, public and private, anonymous and signed-in) is refused on 22222 and 2280', async () => {
    const lPublic = await stack.launch('bob', publicId, 3000);
    const lPrivate = await stack.launch('bob', privateId, 3000);
    const reports: Array<[string, Report]> = [
      [publicId, await seenOverHttp(publicId)],
      [publicId, await seenOverHttp(publicId, { cookie: lPublic.cookieHeader })],
      [publicId, await seenOverWebSocket(publicId)],
      [publicId, await seenOverWebSocket(publicId, { cookie: lPublic.cookieHeader, origin: stack.previewOrigin(publicId, 3000) })],
      [privateId, await seenOverHttp(privateId, { cookie: lPrivate.cookieHeader })],
      [privateId, await seenOverWebSocket(privateId, { cookie: lPrivate.cookieHeader, origin: stack.previewOrigin(privateId, 3000) })],
    ];
    let tried = 0;
    const opened: string[] = [];
    for (const [id, report] of reports) {
      const strings = candidates(report);
      // The signed token Daytona appended to X-Forwarded-Host is among them (it opens port 3000 only).
      expect(strings.some((c) => /^[a-z0-9]{16}$/.test(c))).toBe(true);
      for (const credential of strings) {
        for (const port of [22222, 2280]) {
          for (const attempt of await tryAtDaytona(id, port, credential)) {
            tried++;
            if (attempt.status < 300 || attempt.status === 502) opened.push(`${port} ${attempt.how} ${credential.slice(0, 6)}… → ${attempt.status}`);
          }
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(opened).toEqual([]);
  }, 120_000);

  it('the signed host an app reads opens its own port only, and only at Daytona (the port it already serves)', async () => {
    const report = await seenOverHttp(publicId);
    const signed = candidates(report).find((c) => /^[a-z0-9]{16}$/.test(c));
    expect(signed).toBeDefined();
    const emu = stack.emulator;
    const own = await rawRequest(emu.port, `3000-${signed}.${emu.proxyDomain}:${emu.port}`, '/api/echo', { headers: { accept: 'application/json' } });
    expect(own.status).toBe(200);
    for (const port of [22222, 2280, 8080]) {
      const other = await rawRequest(emu.port, `${port}-${signed}.${emu.proxyDomain}:${emu.port}`, '/api/echo', { headers: { accept: 'application/json' } });
      expect(other.status).toBe(307);
    }
  });
});
