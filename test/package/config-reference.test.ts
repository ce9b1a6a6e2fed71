/** docs/configuration.md cannot drift from the code: rendered from broker/node/env-vars.ts, which lists every variable the code reads. */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARS, renderConfigurationReference } from '../../broker/node/env-vars.js';

const root = join(import.meta.dirname, '..', '..');
/** Protocol constants that look like variables. */
const NOT_VARIABLES = new Set(['GATE_COOKIE_PREFIX', 'GATE_PATHS']);

describe('docs/configuration.md', () => {
  it('is the rendering of broker/node/env-vars.ts (run `npm run docs:config` after a change)', () => {
    expect(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')).toBe(renderConfigurationReference());
  });

  it('lists every variable the Node entry, the CLI and the emulator read', () => {
    const files = [
      'broker/node/config-env.ts',
      'broker/node/main.ts',
      'broker/node/server.ts',
      'demo/emulator/main.ts',
      ...readdirSync(join(root, 'broker', 'cli')).map((f) => `broker/cli/${f}`),
    ];
    const documented = new Set(ENV_VARS.map((v) => v.name));
    const missing = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\b(?:GATE|DAYTONA|EMULATOR)_[A-Z][A-Z0-9_]*\b/g)) {
        if (!NOT_VARIABLES.has(m[0]) && !documented.has(m[0])) missing.add(`${m[0]} (${f})`);
      }
    }
    expect([...missing], 'add these to broker/node/env-vars.ts, then npm run docs:config').toEqual([]);
    expect(documented.size).toBe(ENV_VARS.length); // no duplicates
  });
});
