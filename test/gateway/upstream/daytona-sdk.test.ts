/** createDaytonaPort over the real @daytonaio/sdk against the emulator's API. */
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
});
