/**
 * The same adapter over the SDK's new name, `@daytona/sdk` (same API as `@daytonaio/sdk`;
 * docs/daytona.md, "The SDK"): a client of either package passed as `client` works, in the SDK's
 * default (Socket.IO) mode, against the emulator.
 */
import { Daytona } from '@daytona/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaytonaPort, type DaytonaClientLike, type DaytonaSdkPort } from '../../../broker/node/daytona-sdk.js';
import { startEmulator, type Emulator } from '../../../demo/emulator/index.js';

let emulator: Emulator;
let daytona: DaytonaSdkPort;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  const client = new Daytona({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' });
  daytona = createDaytonaPort({ client: client as unknown as DaytonaClientLike });
});
afterAll(async () => {
  await daytona?.close();
  await emulator?.close();
});

describe('createDaytonaPort over @daytona/sdk', () => {
  it('reads sandboxes, mints a signed link for one port, starts a stopped sandbox, and reports a missing one', async () => {
    const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': 'ana' } });
    expect(await daytona.getSandbox(id)).toMatchObject({ id, state: 'started' });
    expect(await daytona.getSandbox('00000000-0000-4000-8000-000000000000')).toBeNull();
    const link = await daytona.getSignedPreviewLink!(id, 3000, 120);
    expect(emulator.signedTokens(id)).toContain(link.token);
    expect(new URL(link.url).hostname.startsWith(`3000-${link.token}.`)).toBe(true);
    await emulator.stopSandbox(id);
    await daytona.startSandbox(id);
    expect((await daytona.getSandbox(id))?.state).toBe('started');
  });
});
