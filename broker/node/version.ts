/**
 * The package's version, read once from the nearest package.json named `preview-gate` above
 * this file: the same lookup works from source (broker/node/), from the bundled gateway
 * (dist/gateway.mjs) and from the published package (dist/lib/).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** @example packageVersion(); // '0.1.0' */
export function packageVersion(): string {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'preview-gate' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      /* no package.json here: look one level up */
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return (cached = '0.0.0-unknown');
}
