/**
 * `npm run emulator`: the Daytona emulator alone, with one started sample sandbox.
 * Env: EMULATOR_PORT (default 4000), EMULATOR_API_KEY (default emulator-key), EMULATOR_BIND
 * (sandbox ports bound to local servers: `3000=http://127.0.0.1:4123,...`, demo/emulator/bind.ts).
 * Once ready prints `NAME=VALUE` lines (DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID,
 * PREVIEW_URL for port 3000, PREVIEW_TOKEN, and BOUND_PREVIEW_URL_{port} per bound port) and
 * stays up until SIGINT/SIGTERM.
 */
import { BindError, parseEmulatorBind } from './bind.js';
import { startEmulator } from './index.js';

function portFromEnv(): number {
  const raw = process.env.EMULATOR_PORT ?? '4000';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`EMULATOR_PORT must be a port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return port;
}

function bindFromEnv(): Record<number, { target: string }> {
  try {
    return parseEmulatorBind(process.env.EMULATOR_BIND);
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

const bound = bindFromEnv();
const port = portFromEnv();
const emulator = await startEmulator({ port, apiKey: process.env.EMULATOR_API_KEY || 'emulator-key' }).catch((err: NodeJS.ErrnoException) => {
  if (err.code !== 'EADDRINUSE') throw err;
  console.error(`Port ${port} (the Daytona emulator) is already in use: set EMULATOR_PORT to a free port (0 picks one).`);
  process.exit(2);
});
// `preview-gate.users=*` lets every signed-in user of the gateway's default policy preview it.
const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*', 'preview-gate.sample': 'inspector' }, ports: bound });

console.log(`DAYTONA_API_URL=${emulator.apiUrl}`);
console.log(`DAYTONA_API_KEY=${emulator.apiKey}`);
console.log(`SANDBOX_ID=${id}`);
console.log(`PREVIEW_URL=${emulator.previewUrl(id, 3000)}`);
console.log(`PREVIEW_TOKEN=${emulator.standardToken(id)}`);
for (const [p, { target }] of Object.entries(bound)) {
  console.log(`# sandbox port ${p} → ${target} (EMULATOR_BIND)`);
  console.log(`BOUND_PREVIEW_URL_${p}=${emulator.previewUrl(id, Number(p))}`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void emulator.close().then(() => process.exit(0));
  });
}
