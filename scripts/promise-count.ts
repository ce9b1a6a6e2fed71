/**
 * `node --import tsx scripts/promise-count.ts`: how many promises (and other async resources) one
 * small proxied GET makes inside the gateway, counted with an async hook over 100 requests after
 * 200 warm-up ones. A real gateway (test/support/local-app-gateway.ts) in front of a local app
 * answering ~0.5 KB of JSON, the request with an access token header. The load's own two
 * promises per request (this script's) are in the count. `STACKS=1` also prints where the
 * promises are made, most frequent first. Used for docs/benchmarks.md, hot path "Round 7".
 */
import http from 'node:http';
import { createHook } from 'node:async_hooks';
import { gatewayForLocalApp } from '../test/support/local-app-gateway.js';

const body = JSON.stringify({ ok: true, pad: 'x'.repeat(460) });
const app = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
const g = await gatewayForLocalApp(app, 'promise-count');
const agent = new http.Agent({ keepAlive: true });
const one = () =>
  new Promise<void>((resolve) => {
    http.get({ host: '127.0.0.1', port: g.gateway.port, path: '/api/echo', agent, headers: { host: g.host, 'x-daytona-preview-token': g.access } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
  });
for (let i = 0; i < 200; i++) await one();

const counts = new Map<string, number>();
const stacks = new Map<string, number>();
let on = false;
const hook = createHook({
  init(_id, type) {
    if (!on) return;
    counts.set(type, (counts.get(type) ?? 0) + 1);
    if (type !== 'PROMISE' || !process.env.STACKS) return;
    const where = (new Error().stack ?? '')
      .split('\n')
      .slice(3, 6)
      .map((l) => l.trim())
      .join(' < ');
    stacks.set(where, (stacks.get(where) ?? 0) + 1);
  },
}).enable();
const N = 100;
on = true;
for (let i = 0; i < N; i++) await one();
on = false;
hook.disable();
for (const [type, n] of counts) console.log(`${type.padEnd(20)} ${(n / N).toFixed(1)} per request`);
if (process.env.STACKS) for (const [where, n] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((n / N).toFixed(1), where);
agent.destroy();
await g.close();
