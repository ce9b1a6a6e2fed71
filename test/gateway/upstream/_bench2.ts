import { spawn } from 'node:child_process';
import { createNodeFetch } from '../../../broker/node/fetch-upstream.js';
const child = spawn(process.execPath, ['/tmp/srv.cjs']);
const port = await new Promise<string>((r) => child.stdout.once('data', (d) => r(String(d).trim())));
const f = createNodeFetch();
const N = 10000, C = 32;
async function run(label: string, one: () => Promise<Response>) {
  for (let i = 0; i < 500; i++) await (await one()).arrayBuffer();
  const t0 = performance.now(); let next = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (next++ < N) await (await one()).arrayBuffer(); }));
  console.log(label, Math.round(N / ((performance.now() - t0) / 1000)), 'req/s');
}
for (let r = 0; r < 2; r++) {
  await run('createNodeFetch', () => f(new Request(`http://x.localhost:${port}/a`)));
  await run('undici fetch   ', () => globalThis.fetch(`http://127.0.0.1:${port}/a`));
}
f.close(); child.kill();
