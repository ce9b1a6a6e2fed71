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

  // What a strict HTTP/1 parser can hand over: no NUL, CR or LF in a value, nothing above U+00FF.
  const parsedValue = fc.oneof(fc.constantFrom('', ' a ', '\tb\t', 'c=d; Path=/', 'e, f', 'latin1 é', ' \t '), fc.stringMatching(/^[\t\x20-\xff]{0,8}$/));
  const parsedList = fc.array(fc.tuple(name, parsedValue), { maxLength: 10 }).map((pairs) => pairs.flat());

  it('a list from a strict parser (fromParsed, values not tested again) equals fromRaw', () => {
    fc.assert(
      fc.property(parsedList, (raw) => {
        const parsed = HeaderList.fromParsed(raw);
        const checked = HeaderList.fromRaw(raw);
        expect(sorted(parsed)).toEqual(sorted(checked));
        expect(parsed.getSetCookie()).toEqual(checked.getSetCookie());
        for (const probe of ['cookie', 'set-cookie', 'x-a', 'content-type']) expect(parsed.get(probe)).toBe(checked.get(probe));
      }),
      { numRuns: 300 },
    );
  });

  it('filtered keeps exactly the accepted fields, values and Set-Cookie lines as they were', () => {
    fc.assert(
      fc.property(parsedList, fc.constantFrom('cookie', 'set-cookie', 'x-a', 'content-type'), (raw, dropped) => {
        const list = HeaderList.fromRaw(raw);
        const kept = list.filtered((n) => n !== dropped);
        // Expected: undici's Headers of the same raw fields, the dropped name left out.
        const expected = new Headers();
        for (let i = 0; i + 1 < raw.length; i += 2) {
          if (raw[i]!.toLowerCase() === dropped) continue;
          attempt(() => expected.append(raw[i]!, raw[i + 1]!));
        }
        expect(sorted(kept)).toEqual(sorted(expected));
        expect(kept.getSetCookie()).toEqual(expected.getSetCookie());
        expect(kept.has(dropped)).toBe(false);
        // The copy is its own: changing it leaves the original alone.
        kept.set('x-new', '1');
        expect(list.has('x-new')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
