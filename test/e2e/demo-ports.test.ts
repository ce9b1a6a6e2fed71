/**
 * `npm run demo` on ports that are taken: every conflict is reported in one go, each with the
 * environment variable that moves it, before anything listens (exit 2), instead of one
 * EADDRINUSE per attempt. Real processes; the "taken" ports are held by this test.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoProcess } from './demo-process.js';

const held: Server[] = [];
/** A port on 127.0.0.1 that this test keeps busy. */
async function holdPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held.push(server);
  return (server.address() as AddressInfo).port;
}
/** A port free right now (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let emulatorPort: number;
let gatePort: number;
beforeAll(async () => {
  [emulatorPort, gatePort] = await Promise.all([holdPort(), holdPort()]);
});
afterAll(() => {
  for (const s of held) s.close();
});

describe('npm run demo with its ports taken', { timeout: 120_000 }, () => {
  it('two taken ports are refused together, each naming its variable; the free one is not blamed', async () => {
    const demo = await startDemoProcess('demo/main.ts', { EMULATOR_PORT: String(emulatorPort), GATE_PORT: String(gatePort), DEMO_HOST_PORT: '0' }, 'DEMO_USER');
    expect(await demo.exited).toBe(2);
    const err = demo.stderr();
    expect(err).toContain(
      `port ${emulatorPort} (the Daytona emulator) is already in use: set EMULATOR_PORT to a free port, e.g. EMULATOR_PORT=0 for any free one.`,
    );
    expect(err).toContain(`port ${gatePort} (the gateway) is already in use: set GATE_PORT to a free port, e.g. GATE_PORT=0 for any free one.`);
    expect(err).not.toContain('DEMO_HOST_PORT');
    expect(demo.lines.size).toBe(0); // nothing started, nothing printed as ready
  });

  it('the same port given twice is named with both variables, along with a malformed EMULATOR_BIND', async () => {
    const port = await freePort();
    const demo = await startDemoProcess(
      'demo/main.ts',
      { EMULATOR_PORT: String(emulatorPort), GATE_PORT: String(port), DEMO_HOST_PORT: String(port), EMULATOR_BIND: '3000=ftp://x' },
      'DEMO_USER',
    );
    expect(await demo.exited).toBe(2);
    const err = demo.stderr();
    expect(err).toContain(`DEMO_HOST_PORT=${port} (the demo host page) is the same port as GATE_PORT: set one of them to another port.`);
    expect(err).toContain('set EMULATOR_PORT');
    expect(err).toContain('EMULATOR_BIND entry 1 ("3000=ftp://x"): only http: URLs can be bound');
  });

  it('control: the same command with free ports (all 0) starts', async () => {
    const demo = await startDemoProcess('demo/main.ts', { EMULATOR_PORT: '0', GATE_PORT: '0', DEMO_HOST_PORT: '0' }, 'DEMO_USER');
    try {
      expect(demo.lines.get('DEMO_USER')).toBe('demo-user');
      expect(demo.stderr()).not.toContain('cannot start');
    } finally {
      await demo.stop();
    }
  });

  it('a malformed port value is named with its variable', async () => {
    const demo = await startDemoProcess('demo/main.ts', { EMULATOR_PORT: '0', GATE_PORT: 'eighty', DEMO_HOST_PORT: '70000' }, 'DEMO_USER');
    expect(await demo.exited).toBe(2);
    expect(demo.stderr()).toContain('GATE_PORT must be a port number (0-65535; 0 picks a free one), got "eighty"');
    expect(demo.stderr()).toContain('DEMO_HOST_PORT must be a port number (0-65535; 0 picks a free one), got "70000"');
  });
});
