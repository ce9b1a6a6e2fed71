/**
 * The Daytona emulator and the real @daytonaio/sdk client pointed at it, for the emulator's own
 * tests (test/emulator/). Use test/support/stack.ts when the gateway is part of the test.
 */
import { Daytona } from '@daytonaio/sdk';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../demo/emulator/index.js';

export interface EmulatorWithSdk {
  emu: Emulator;
  /** The SDK in its default (Socket.IO) mode, with apiUrl explicit (docs/daytona.md). */
  daytona: Daytona;
  /** Disposes the SDK client, then closes the emulator. */
  close(): Promise<void>;
}

export async function startEmulatorWithSdk(opts: EmulatorOptions): Promise<EmulatorWithSdk> {
  const emu = await startEmulator(opts);
  const daytona = new Daytona({ apiKey: emu.apiKey, apiUrl: emu.apiUrl, target: 'us' });
  return {
    emu,
    daytona,
    async close() {
      await daytona[Symbol.asyncDispose]();
      await emu.close();
    },
  };
}
