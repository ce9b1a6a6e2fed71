/** createDaytonaPort over the real @daytonaio/sdk (its default, Socket.IO mode) against the emulator's API. */
import { Daytona } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../demo/emulator/index.js';
import { createDaytonaPort, type DaytonaSdkPort } from '../../../broker/node/daytona-sdk.js';

let emulator: Emulator;
let daytona: DaytonaSdkPort;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  daytona = createDaytonaPort({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us', requestTimeoutMs: 5_000 });
});
afterAll(async () => {
  await daytona?.close();
  await emulator?.close();
});

describe('createDaytonaPort', () => {
  it('reads a sandbox as SandboxInfo, and null when it does not exist', async () => {
    const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': 'alice,bob' }, public: false });
    const info = await daytona.getSandbox(id);
    expect(info).toMatchObject({ id, state: 'started', public: false });
    expect(info?.labels['preview-gate.users']).toBe('alice,bob');
    expect(await daytona.getSandbox('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('gets the preview link with one API call once the Sandbox object is cached', async () => {
    const { id } = await emulator.createSandbox({});
    const first = await daytona.getPreviewLink(id, 3000);
    expect(first.url).toBe(emulator.previewUrl(id, 3000));
    expect(first.token).toBe(emulator.standardToken(id));
    const before = emulator.stats.apiRequests;
    await daytona.getPreviewLink(id, 8080);
    expect(emulator.stats.apiRequests - before).toBe(1);
  });

  it('starts a stopped sandbox and waits until it is started (new token)', async () => {
    const { id } = await emulator.createSandbox({});
    const old = emulator.standardToken(id);
    await emulator.stopSandbox(id);
    await daytona.startSandbox(id);
    expect((await daytona.getSandbox(id))?.state).toBe('started');
    expect(emulator.standardToken(id)).not.toBe(old);
    await daytona.startSandbox(id); // already started: a no-op
  });

  it('maps API failures to daytona_unavailable and a missing sandbox to sandbox_not_found, without the API key', async () => {
    await expect(daytona.getPreviewLink('00000000-0000-4000-8000-000000000001', 3000)).rejects.toMatchObject({ code: 'sandbox_not_found' });
    const { id } = await emulator.createSandbox({});
    for (const fault of [{ status: 500 }, { status: 503 }, 'refuse'] as const) {
      emulator.setApiFault(fault);
      try {
        for (const call of [() => daytona.getSandbox(id), () => daytona.getPreviewLink(id, 3000), () => daytona.startSandbox(id)]) {
          const err = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toMatchObject({ code: 'daytona_unavailable' });
          expect(JSON.stringify(err) + String((err as Error).message)).not.toContain(emulator.apiKey);
        }
      } finally {
        emulator.setApiFault(null);
      }
    }
    const bad = createDaytonaPort({ apiUrl: emulator.apiUrl, apiKey: 'wrong-key', target: 'us' });
    try {
      const err = await bad.getPreviewLink(id, 3000).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'daytona_unavailable' });
      expect((err as Error).message).not.toContain('wrong-key');
    } finally {
      await bad.close();
    }
  });

  it('gets a signed preview link for one port, with its expiry, in one API call', async () => {
    const { id } = await emulator.createSandbox({});
    await daytona.getPreviewLink(id, 3000); // caches the Sandbox object
    const before = emulator.stats.apiRequests;
    const t0 = Date.now();
    const link = await daytona.getSignedPreviewLink!(id, 3000, 900);
    expect(emulator.stats.apiRequests - before).toBe(1);
    expect(link.signed).toBe(true);
    expect(link.token).toMatch(/^[a-z0-9]{16}$/);
    expect(link.url).toBe(`http://3000-${link.token}.${emulator.proxyDomain}:${emulator.port}`);
    expect(link.expiresAt).toBeGreaterThanOrEqual(t0 + 900_000);
    expect(link.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(emulator.signedTokens(id)).toContain(link.token);
  });

  it('starts paused and archived sandboxes too (paused keeps its token, archived gets a new one)', async () => {
    const paused = await emulator.createSandbox({});
    const token = emulator.standardToken(paused.id);
    await emulator.pauseSandbox(paused.id);
    await daytona.startSandbox(paused.id);
    expect((await daytona.getSandbox(paused.id))?.state).toBe('started');
    expect(emulator.standardToken(paused.id)).toBe(token);
    const archived = await emulator.createSandbox({});
    await emulator.archiveSandbox(archived.id);
    expect((await daytona.getSandbox(archived.id))?.state).toBe('archived');
    await daytona.startSandbox(archived.id);
    expect((await daytona.getSandbox(archived.id))?.state).toBe('started');
  });

  it('accepts a ready client (either published SDK package) and tells errors apart by statusCode, not class', async () => {
    const client = new Daytona({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' });
    const port = createDaytonaPort({ client });
    try {
      const { id } = await emulator.createSandbox({});
      expect((await port.getSandbox(id))?.id).toBe(id);
      expect(await port.getSandbox('00000000-0000-4000-8000-000000000002')).toBeNull();
    } finally {
      await port.close();
    }
    // A client whose errors are another package's classes: only `statusCode` is read.
    const foreign = createDaytonaPort({
      client: {
        get: async () => {
          throw Object.assign(new Error('Sandbox not found'), { name: 'DaytonaNotFoundError', statusCode: 404 });
        },
        [Symbol.asyncDispose]: async () => {},
      },
    });
    expect(await foreign.getSandbox('x')).toBeNull();
    await expect(foreign.getSignedPreviewLink!('x', 3000, 60)).rejects.toMatchObject({ code: 'sandbox_not_found' });
    await foreign.close();
  });
});
