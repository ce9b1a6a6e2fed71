/**
 * `node scripts/profile-groups.mjs FILE.cpuprofile US_PER_REQUEST [SOURCE]`: a CPU profile's self
 * time in the groups of docs/benchmarks.md "Round 8" (the write syscalls, Node's own JavaScript,
 * the proxy's JavaScript, GC, microtasks, natives), in µs per request (the share of the sampled
 * busy time × US_PER_REQUEST, the CPU per request measured beside it, e.g. by
 * scripts/hotpath-cpu.ts) and in %. SOURCE is the proxy's own file (default dist/gateway.mjs;
 * bench/minimal-proxy.mjs for the minimal proxy's profile); for the bundle, its own JavaScript is
 * also given per source file, read from the `// path` comments esbuild puts before each module.
 * Used with the profiles `HOTPATH_PROFILE=1` leaves in .tmp/profiles/ (the minimal proxy's in
 * .tmp/profiles/minimal/).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [file, usArg, sourceArg] = process.argv.slice(2);
if (!file || !usArg) {
  console.error('usage: node scripts/profile-groups.mjs FILE.cpuprofile US_PER_REQUEST [SOURCE]');
  process.exit(2);
}
const source = sourceArg ?? 'dist/gateway.mjs';
const own = basename(source);
const perRequest = Number(usArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const lines = readFileSync(source, 'utf8').split('\n');
/** The bundled module each line of SOURCE belongs to. */
const moduleAt = [];
let current = '';
for (let i = 0; i < lines.length; i++) {
  const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(lines[i]);
  if (m) current = m[1];
  moduleAt[i] = current;
}
const selfTime = new Map();
for (let i = 0; i < profile.samples.length; i++) selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));

const WRITES = new Set(['writev', 'writeLatin1String', 'writeBuffer', 'writeUtf8String']);
function groupOf(node) {
  const { url, functionName: f, lineNumber } = node.callFrame;
  if (url.endsWith(own)) return (moduleAt[lineNumber] ?? '').startsWith('node_modules') ? "the proxy's dependencies" : "the proxy's own JavaScript";
  if (f === '(garbage collector)') return 'garbage collection';
  if (WRITES.has(f)) return 'writes (the syscalls)';
  if (f === '(program)') return '(program)';
  if (f === 'runMicrotasks' || url.includes('task_queues') || url.includes('process/promises')) return 'microtasks and nextTick';
  if (url.startsWith('node:')) return "Node's http, net, streams, events, timers";
  return 'V8 natives (URL parsing, regexps) and other';
}

let total = 0;
const groups = new Map();
const modules = new Map();
for (const node of profile.nodes) {
  if (node.callFrame.functionName === '(idle)') continue;
  const t = selfTime.get(node.id) ?? 0;
  total += t;
  const g = groupOf(node);
  groups.set(g, (groups.get(g) ?? 0) + t);
  if (g === "the proxy's own JavaScript") {
    const m = moduleAt[node.callFrame.lineNumber] || basename(source);
    modules.set(m, (modules.get(m) ?? 0) + t);
  }
}
const row = (t, label) => `${((t / total) * perRequest).toFixed(1).padStart(7)} µs ${((100 * t) / total).toFixed(1).padStart(5)}%  ${label}`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy (sampled, idle excluded), at ${perRequest} µs per request`);
for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1])) console.log(row(t, g));
if (modules.size > 1) {
  console.log("-- the proxy's own JavaScript by source file --");
  for (const [m, t] of [...modules].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(row(t, m));
}
