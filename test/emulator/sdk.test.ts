/**
 * The emulator driven by the REAL @daytonaio/sdk, the way the gateway drives Daytona: the
 * SDK's default (Socket.IO) mode, explicit apiUrl (docs/daytona.md: "In tests, pass apiUrl
 * explicitly"). Each assertion is something an SDK user would observe.
 */
import { Daytona, DaytonaAuthenticationError, DaytonaNotFoundError, type Sandbox } from '@daytonaio/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Emulator } from '../../demo/emulator/index.js';
import { startEmulatorWithSdk, type EmulatorWithSdk } from '../support/emulator-sdk.js';
import { proxyRequest } from './proxy-request.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let emu: Emulator;
let daytona: Daytona;

let rig: EmulatorWithSdk;
beforeAll(async () => {
  // The SDK's default mode: a Socket.IO connection to the emulator's events endpoint (events.ts).
  ({ emu, daytona } = rig = await startEmulatorWithSdk({ port: 0, startingMs: 150 }));
});
afterAll(() => rig?.close());
afterEach(() => {
  vi.useRealTimers();
});

const withToken = (token: string) => ({ headers: { 'x-daytona-preview-token': token } });

async function created(labels: Record<string, string> = {}): Promise<Sandbox> {
  return daytona.create({ labels });
}

describe('create, get and list', () => {
  it('create() returns a started sandbox with a UUIDv4 id, its labels, and a toolboxProxyUrl', async () => {
    const t0 = Date.now();
    const sandbox = await created({ team: 'emulator', 'preview-gate.users': '*' });
    const elapsed = Date.now() - t0;
    expect(sandbox.state).toBe('started');
    expect(sandbox.id).toMatch(UUID_V4);
    expect(sandbox.labels).toMatchObject({ team: 'emulator', 'preview-gate.users': '*' });
    expect(sandbox.public).toBe(false);
    expect(sandbox.toolboxProxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/toolbox$/);
    // It really passed through `starting` (150 ms) and the SDK's 100 ms polling saw it end.
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(3000);
  });

  it('get(id) and get(name) return the same sandbox; list() filters by label', async () => {
    const sandbox = await created({ list: 'me' });
    const byId = await daytona.get(sandbox.id);
    expect(byId.id).toBe(sandbox.id);
    expect(byId.state).toBe('started');
    expect(byId.labels.list).toBe('me');
    expect((await daytona.get(sandbox.name)).id).toBe(sandbox.id);
    const listed: string[] = [];
    for await (const s of daytona.list({ labels: { list: 'me' } })) listed.push(s.id);
    expect(listed).toEqual([sandbox.id]);
  });

  it('get() of an unknown sandbox throws DaytonaNotFoundError; a wrong API key throws DaytonaAuthenticationError', async () => {
    await expect(daytona.get('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(DaytonaNotFoundError);
    const wrong = new Daytona({ apiKey: 'not-the-key', apiUrl: emu.apiUrl, target: 'us', useDeprecatedPolling: true });
    await expect(wrong.get('anything')).rejects.toBeInstanceOf(DaytonaAuthenticationError);
  });

  it('setLabels() replaces the labels', async () => {
    const sandbox = await created({ a: '1' });
    await sandbox.setLabels({ b: '2' });
    expect((await daytona.get(sandbox.id)).labels).toEqual({ b: '2' });
  });
});

describe('preview links', () => {
  it('getPreviewLink(port) gives the {port}-{id} URL and a nanoid-style token that opens the inspector', async () => {
    const sandbox = await created();
    const before = emu.stats.previewUrlRequests;
    const link = await sandbox.getPreviewLink(3000);
    expect(emu.stats.previewUrlRequests).toBe(before + 1);
    expect(link.url).toBe(`http://3000-${sandbox.id}.proxy.localhost:${emu.port}`);
    expect(link.url).toBe(emu.previewUrl(sandbox.id, 3000));
    expect(link.token).toMatch(/^[a-z0-9_-]{32}$/);
    expect(link.token).toBe(emu.standardToken(sandbox.id));
    const res = await proxyRequest(link.url, '/api/echo', withToken(link.token));
    expect(res.status).toBe(200);
    expect(res.json().headers.host).toBe('localhost:3000');
    // The same token opens every port of the sandbox (a known Daytona property).
    expect((await proxyRequest(emu.previewUrl(sandbox.id, 8080), '/api/echo', withToken(link.token))).status).toBe(200);
  });

  it('getPreviewLink rejects ports outside 1-65535 with a 400 "Invalid port"', async () => {
    const sandbox = await created();
    for (const port of [0, 65536]) {
      await expect(sandbox.getPreviewLink(port)).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('Invalid port') });
    }
  });

  it('a signed URL opens the port without a header, lives 60 s by default, and only for its port', async () => {
    const sandbox = await created();
    const signed = await sandbox.getSignedPreviewUrl(3000);
    expect(signed.token).toMatch(/^[a-z0-9]{16}$/);
    expect(signed.url).toBe(`http://3000-${signed.token}.proxy.localhost:${emu.port}`);
    expect(signed).toMatchObject({ sandboxId: sandbox.id, port: 3000 });
    expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200);
    // Same token on another port: not valid there (the same 307 as any failed authentication).
    expect((await proxyRequest(`http://8080-${signed.token}.proxy.localhost:${emu.port}`, '/')).status).toBe(307);

    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now + 58_000);
    expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200);
    vi.setSystemTime(now + 61_000);
    const expired = await proxyRequest(signed.url, '/api/echo');
    expect(expired.status).toBe(307);
    expect(expired.headers.location).toContain('/idp/authorize?');
  });

  it('expiresInSeconds is honoured and bounded to 1-86400', async () => {
    const sandbox = await created();
    const short = await sandbox.getSignedPreviewUrl(3000, 5);
    const long = await sandbox.getSignedPreviewUrl(3000, 86400);
    expect((await sandbox.getSignedPreviewUrl(3000, 1)).token).toMatch(/^[a-z0-9]{16}$/);
    for (const bad of [0, 86401]) {
      await expect(sandbox.getSignedPreviewUrl(3000, bad)).rejects.toMatchObject({ statusCode: 400 });
    }
    const now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now + 6_000);
    expect((await proxyRequest(short.url, '/')).status).toBe(307);
    vi.setSystemTime(now + 86_399_000);
    expect((await proxyRequest(long.url, '/api/echo')).status).toBe(200);
  });

  it('expireSignedPreviewUrl() ends the URL (307) but not a browser session already holding its cookie', async () => {
    const sandbox = await created();
    const signed = await sandbox.getSignedPreviewUrl(3000, 600);
    const first = await proxyRequest(signed.url, '/api/echo');
    expect(first.status).toBe(200);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    await sandbox.expireSignedPreviewUrl(3000, signed.token);
    expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(307);
    const cookie = setCookie.split(';')[0] ?? '';
    const withCookie = await proxyRequest(signed.url, '/api/echo', { headers: { cookie } });
    expect(withCookie.status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('stop → the proxy answers 400 "no IP address found"; start → a new token, the old one gets the 307, signed URLs survive', async () => {
    const sandbox = await created();
    const oldToken = (await sandbox.getPreviewLink(3000)).token;
    const signed = await sandbox.getSignedPreviewUrl(3000, 3600);
    const url = emu.previewUrl(sandbox.id, 3000);

    await sandbox.stop();
    expect(sandbox.state).toBe('stopped');
    expect((await daytona.get(sandbox.id)).state).toBe('stopped');
    const stopped = await proxyRequest(url, '/api/echo', withToken(oldToken));
    expect(stopped.status).toBe(400);
    expect(stopped.json()).toMatchObject({
      statusCode: 400,
      code: 'BAD_REQUEST',
      message: 'bad request: no IP address found. Is the Sandbox started?',
      path: '/api/echo',
      method: 'GET',
    });

    await sandbox.start();
    expect(sandbox.state).toBe('started');
    const newToken = (await sandbox.getPreviewLink(3000)).token;
    expect(newToken).not.toBe(oldToken);
    const old = await proxyRequest(url, '/api/echo', withToken(oldToken));
    expect(old.status).toBe(307);
    expect(old.headers.location).toContain('/idp/authorize?');
    expect((await proxyRequest(url, '/api/echo', withToken(newToken))).status).toBe(200);
    expect((await proxyRequest(signed.url, '/api/echo')).status).toBe(200);
  });

  it('delete() removes the sandbox: get() throws NotFound and the proxy answers the same 307 as a wrong token (no existence oracle)', async () => {
    const sandbox = await created();
    const token = (await sandbox.getPreviewLink(3000)).token;
    await sandbox.delete();
    await expect(daytona.get(sandbox.id)).rejects.toBeInstanceOf(DaytonaNotFoundError);
    const res = await proxyRequest(emu.previewUrl(sandbox.id, 3000), '/', withToken(token));
    expect(res.status).toBe(307);
    expect(res.headers.location).toContain('/idp/authorize?');
  });
});

describe('public flag', () => {
  it('POST /sandbox/{id}/public/true → 201; the sandbox opens without auth except on reserved ports', async () => {
    const sandbox = await created();
    const url = emu.previewUrl(sandbox.id, 3000);
    expect((await proxyRequest(url, '/api/echo')).status).toBe(307);

    const set = await fetch(`${emu.apiUrl}/sandbox/${sandbox.id}/public/true`, { method: 'POST', headers: { authorization: `Bearer ${emu.apiKey}` } });
    expect(set.status).toBe(201);
    expect(await set.json()).toMatchObject({ id: sandbox.id, public: true });
    await sandbox.refreshData();
    expect(sandbox.public).toBe(true);

    expect((await proxyRequest(url, '/api/echo')).status).toBe(200);
    for (const reserved of [22222, 2280, 33333]) {
      expect((await proxyRequest(emu.previewUrl(sandbox.id, reserved), '/')).status).toBe(307);
    }
    const unset = await fetch(`${emu.apiUrl}/sandbox/${sandbox.id}/public/false`, { method: 'POST', headers: { authorization: `Bearer ${emu.apiKey}` } });
    expect(unset.status).toBe(201);
    expect((await proxyRequest(url, '/api/echo')).status).toBe(307);
  });

  it('create({ public: true }) makes a public sandbox', async () => {
    const sandbox = await daytona.create({ public: true });
    expect(sandbox.public).toBe(true);
    expect((await proxyRequest(emu.previewUrl(sandbox.id, 8080), '/api/echo')).status).toBe(200);
  });
});
