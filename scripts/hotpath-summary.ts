/** `node --import tsx scripts/hotpath-summary.ts FILE.cpuprofile [top]`: bench/profile.ts's self-time summary of a saved profile. */
import { readFileSync } from 'node:fs';
import { summarize } from '../bench/profile.js';

console.log(summarize(JSON.parse(readFileSync(process.argv[2]!, 'utf8')), Number(process.argv[3] ?? 40)));
