/**
 * `node scripts/stream-shapes/run.mjs`: does Node's own http and stream code cost more in a process
 * that has pushed many kinds of streams and emitters through it (V8's inline caches in Node's
 * shared stream functions turning megamorphic)? Two copies of the same 10-line proxy (proxy.mjs)
 * in front of one upstream (upstream.mjs, a ~0.5 KB answer), one started after preload.mjs (data
 * piped through eight stream classes and ten emitter subclasses), loaded side by side by wrk (16
 * connections each), CPU per request from /proc. Needs wrk (Debian's `wrk`). Env: ROUNDS (4),
 * SECONDS (6). Used for docs/benchmarks.md, hot path "Round 6".
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS ?? 6);
const ports = { up: 19_101, plain: 19_102, preloaded: 19_103 };
const node = (args, env) => spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second)
};
const wrk = (port, seconds) =>
  new Promise((resolve) => {
    const w = spawn('wrk', ['-t1', '-c16', `-d${seconds}s`, `http://127.0.0.1:${port}/`]);
    let out = '';
    w.stdout.on('data', (d) => (out += d));
    w.on('exit', () => resolve(Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)));
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
const up = node([join(here, 'upstream.mjs')], { PORT: String(ports.up) });
const plain = node([join(here, 'proxy.mjs')], { UP: String(ports.up), PORT: String(ports.plain) });
const preloaded = node(['--import', join(here, 'preload.mjs'), join(here, 'proxy.mjs')], { UP: String(ports.up), PORT: String(ports.preloaded) });
try {
  await sleep(2_000);
  await Promise.all([wrk(ports.plain, 3), wrk(ports.preloaded, 3)]); // warm-up
  for (let round = 1; round <= ROUNDS; round++) {
    const before = [cpuTicks(plain.pid), cpuTicks(preloaded.pid)];
    const [a, b] = await Promise.all([wrk(ports.plain, SECONDS), wrk(ports.preloaded, SECONDS)]);
    await sleep(300);
    const usA = ((cpuTicks(plain.pid) - before[0]) * 10_000) / a;
    const usB = ((cpuTicks(preloaded.pid) - before[1]) * 10_000) / b;
    console.log(`round ${round}: plain ${usA.toFixed(0)} µs/request (${a}), preloaded ${usB.toFixed(0)} µs/request (${b}), ratio ${(usB / usA).toFixed(2)}`);
  }
} finally {
  for (const p of [up, plain, preloaded]) p.kill();
}
