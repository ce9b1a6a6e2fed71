/**
 * The bench's Daytona: the emulator (demo/emulator/index.ts) in a process of its own, its
 * sandboxes' port 3000 bound to the bench app (bench/app.mjs, APP_URL), plus a small control
 * server the bench drives it with:
 *   GET  /stats     the emulator's live counters (apiRequests = every Daytona API call it served)
 *   POST /sandbox   a new started sandbox → {"id", "token"} (the cold path needs one whose link
 *                   no gateway has fetched yet)
 * Prints DAYTONA_API_URL, DAYTONA_API_KEY, SANDBOX_ID, PREVIEW_TOKEN, EMULATOR_PORT, CONTROL_PORT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator } from '../demo/emulator/index.js';

const appUrl = process.env.APP_URL;
if (!appUrl) throw new Error('APP_URL is required');
const emulator = await startEmulator({ port: 0 });
const create = () => emulator.createSandbox({ labels: { 'preview-gate.users': '*' }, ports: { 3000: { target: appUrl } } });
const { id } = await create();

const control = http.createServer((req, res) => {
  const answer = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/stats') return answer(emulator.stats);
  if (req.url === '/sandbox' && req.method === 'POST') {
    void create().then(
      (s) => answer({ id: s.id, token: emulator.standardToken(s.id) }),
      (e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      },
    );
    return;
  }
  res.writeHead(404);
  res.end();
});
await new Promise<void>((r) => control.listen(0, '127.0.0.1', () => r()));

console.log(`DAYTONA_API_URL=${emulator.apiUrl}`);
console.log(`DAYTONA_API_KEY=${emulator.apiKey}`);
console.log(`EMULATOR_PORT=${emulator.port}`);
console.log(`SANDBOX_ID=${id}`);
console.log(`PREVIEW_TOKEN=${emulator.standardToken(id)}`);
console.log(`CONTROL_PORT=${(control.address() as AddressInfo).port}`);

process.on('SIGTERM', () => {
  control.close();
  void emulator.close().then(() => process.exit(0));
});
