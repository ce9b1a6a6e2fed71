/**
 * The plain-path shortcut of `isReservedPath` (broker/core/http/paths.ts): a path without `%`,
 * `\`, `;`, empty or dot segments is judged on itself instead of its 24 readings. Property: the
 * shortcut decides exactly as the full rule for every path, and the usual request path takes it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReservedPath, pathReadings, pathStats, RESERVED_PREFIX } from '../../broker/core/http/paths.js';

const fullRule = (p: string) => pathReadings(p).some((r) => r === RESERVED_PREFIX || r.startsWith(`${RESERVED_PREFIX}/`));

const segment = fc.oneof(
  fc.constantFrom('', '.', '..', '__gate', '__GATE', '_gate', 'sw.js', '.x', '..;', '%2e', '%2f', '%252e', '%5c', ';a', 'a;b', '\\', 'api', 'x.y'),
  fc.string({ unit: fc.constantFrom('a', '_', '-', '.', '~', '!', ';', '%', '2', 'f', 'e', '\\', '@', ':', '=', '+', '$', '&') }),
);
const path = fc.array(segment, { maxLength: 6 }).map((segs) => `/${segs.join('/')}`);

describe('isReservedPath plain-path shortcut', () => {
  it('decides like the full rule for every path, plain or not', () => {
    fc.assert(
      fc.property(path, (p) => {
        expect(isReservedPath(p)).toBe(fullRule(p));
      }),
      { numRuns: 5000 },
    );
  });

  it('is taken for the usual request paths (and refuses the reserved ones among them)', () => {
    const before = pathStats.plain;
    expect(isReservedPath('/api/echo')).toBe(false);
    expect(isReservedPath('/assets/index-3f2a.js')).toBe(false);
    expect(isReservedPath('/__gate/sw.js')).toBe(true);
    expect(isReservedPath('/__gate/')).toBe(true);
    expect(isReservedPath('/')).toBe(false);
    expect(pathStats.plain - before).toBe(5);
    // Not plain: judged by every reading, so the shortcut count does not move.
    expect(isReservedPath('/x/..%2f__gate/sw.js')).toBe(true);
    expect(isReservedPath('//__gate/x')).toBe(true);
    expect(pathStats.plain - before).toBe(5);
  });
});
