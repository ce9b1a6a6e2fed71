/**
 * `npm run emulator`: the Daytona emulator alone, with one started sample sandbox.
 * Env: EMULATOR_PORT (default 4000), EMULATOR_API_KEY (default emulator-key).
 * Once ready prints `NAME=VALUE` lines (DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID,
 * PREVIEW_URL for port 3000, PREVIEW_TOKEN) and stays up until SIGINT/SIGTERM.
 */
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

const emulator = await startEmulator({ port: portFromEnv(), apiKey: process.env.EMULATOR_API_KEY || 'emulator-key' });
// `preview-gate.users=*` lets every signed-in user of the gateway's default policy preview it.
const { id } = await emulator.createSandbox({ labels: { 'preview-gate.users': '*', 'preview-gate.sample': 'inspector' } });

console.log(`DAYTONA_API_URL=${emulator.apiUrl}`);
console.log(`DAYTONA_API_KEY=${emulator.apiKey}`);
console.log(`SANDBOX_ID=${id}`);
console.log(`PREVIEW_URL=${emulator.previewUrl(id, 3000)}`);
console.log(`PREVIEW_TOKEN=${emulator.standardToken(id)}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void emulator.close().then(() => process.exit(0));
  });
}
