/**
 * broker/core/http/header-list.ts against undici's Headers: for any sequence of append, set and
 * delete calls (names in any case, values with edge whitespace, invalid names and values among
 * them), both refuse the same calls, and `get`, `has`, `getSetCookie` and the entries (as a set:
 * HeaderList iterates in insertion order, Headers sorted) agree after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderList, headersFromRaw } from '../../broker/core/http/header-list.js';

const name = fc.oneof(
  fc.constantFrom('Set-Cookie', 'set-cookie', 'Cookie', 'cookie', 'Content-Type', 'x-a', 'X-A', 'Location', 'vary', 'bad name', '', 'ü', 'a:b'),
  fc.stringMatching(/^[a-zA-Z-]{1,6}$/),
);
const value = fc.oneof(
  fc.constantFrom('', ' a ', '\tb\t', 'c=d; Path=/', 'e, f', 'g\r\nh', 'nul\0', 'latin1 é', 'wide ☃', ' \t '),
  fc.string({ maxLength: 8 }),
);
const op = fc.tuple(fc.constantFrom('append', 'set', 'delete'), name, value);

function attempt(f: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return { ok: false };
  }
}

const sorted = (h: Iterable<[string, string]>) => [...h].map(([n, v]) => `${n}\u0000${v}`).sort();

describe('HeaderList keeps the Fetch Headers semantics', () => {
  it('every call refuses, answers and iterates as undici Headers does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const a = new Headers();
        const b = new HeaderList();
        for (const [kind, n, v] of ops) {
          const ra = attempt(() => (kind === 'delete' ? a.delete(n) : a[kind](n, v)));
          const rb = attempt(() => (kind === 'delete' ? b.delete(n) : b[kind](n, v)));
          expect(rb.ok).toBe(ra.ok);
          for (const probe of [n, n.toLowerCase(), 'set-cookie', 'cookie']) {
            expect(attempt(() => b.get(probe))).toEqual(attempt(() => a.get(probe)));
            expect(attempt(() => b.has(probe))).toEqual(attempt(() => a.has(probe)));
          }
          expect(b.getSetCookie()).toEqual(a.getSetCookie());
          expect(sorted(b)).toEqual(sorted(a));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('passes for a Headers: instanceof, a Response built from it, and a Headers copied from it', () => {
    const list = new HeaderList();
    list.append('Set-Cookie', 'a=1');
    list.append('set-cookie', 'b=2');
    list.set('Content-Type', 'text/plain');
    expect(list).toBeInstanceOf(Headers);
    const res = new Response('x', { headers: list as unknown as Headers });
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(sorted(new Headers(list as unknown as Headers))).toEqual(sorted(list));
    expect(list.toNodeHeaders()).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  });

  it("a raw field list (Node's rawHeaders) drops only the fields Headers would refuse", () => {
    const h = headersFromRaw(['Content-Type', 'text/html', 'X-Bad', 'wide ☃', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Vary', 'a', 'VARY', 'b']);
    expect(h.get('x-bad')).toBeNull();
    expect(h.get('vary')).toBe('a, b');
    expect(h.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(h.get('content-type')).toBe('text/html');
  });
});
