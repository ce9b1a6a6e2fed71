/**
 * `node scripts/soak-heap-diff.mjs before.heapsnapshot after.heapsnapshot [top]`: what the
 * gateway's heap holds more of at the end of a soak than after warm-up (snapshots written by
 * `npm run soak -- --snapshots DIR`). Groups objects by constructor / kind and prints the
 * groups whose count or self size grew most, so a leak shows up as the record type it keeps.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Objects of a heap snapshot grouped by kind and constructor (count, self size), and the total self size. Also used by scripts/ws-idle-memory.ts. */
export function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const nType = fields.indexOf('type');
  const nName = fields.indexOf('name');
  const nSize = fields.indexOf('self_size');
  const stride = fields.length;
  const groups = new Map();
  const nodes = snap.nodes;
  let total = 0;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + nType]];
    let name = snap.strings[nodes[i + nName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number') name = '(number)';
    else if (type === 'code') name = '(code)';
    else if (type === 'hidden') name = `(hidden) ${name.slice(0, 40)}`;
    else name = `${type}:${name.slice(0, 60)}`;
    const g = groups.get(name) ?? { count: 0, size: 0 };
    g.count++;
    g.size += nodes[i + nSize];
    total += nodes[i + nSize];
    groups.set(name, g);
  }
  return { groups, total };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();

function main() {
  const [a, b, topArg] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: node scripts/soak-heap-diff.mjs before.heapsnapshot after.heapsnapshot [top]');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const before = summarize(a);
  const after = summarize(b);
  const rows = [];
  for (const [name, g] of after.groups) {
    const p = before.groups.get(name) ?? { count: 0, size: 0 };
    rows.push({ name, count: g.count, dCount: g.count - p.count, size: g.size, dSize: g.size - p.size });
  }
  rows.sort((x, y) => y.dSize - x.dSize);
  const mib = (n) => (n / 1048576).toFixed(2);
  console.log(`heap self size: ${mib(before.total)} MiB → ${mib(after.total)} MiB`);
  console.log('Δsize MiB  Δcount     count  group');
  for (const r of rows.slice(0, top)) console.log(`${mib(r.dSize).padStart(9)} ${String(r.dCount).padStart(7)} ${String(r.count).padStart(9)}  ${r.name}`);
}
