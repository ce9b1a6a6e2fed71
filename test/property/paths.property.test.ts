/**
 * Property: no path that ANY of several real-world decoders reads as under /__gate/ is
 * forwarded, share scopes hold under every reading, and the normalisation is well-formed.
 * Decoders modelled: the WHATWG URL parser (browsers, Node, Deno), decodeURIComponent once and
 * twice (Go's net/http, Flask, servers that double-decode), Python's http.server (lenient
 * `unquote` then `posixpath.normpath`), Tomcat/Jetty/Spring (`;params` dropped per segment,
 * `..;` read as `..`), and a slash-merging proxy that also reads `\` as `/`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inScope, isReservedPath, normalisePath, pathReadings, validPath } from '../../broker/core/http/paths.js';
import { makeGateway } from '../gateway/helpers.js';

/** Lenient percent-decoding (Python's unquote): valid escapes decoded, the rest kept. */
const unquote = (p: string) => p.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
const strictDecode = (p: string) => {
  try {
    return decodeURIComponent(p);
  } catch {
    return null; // such a server refuses the request
  }
};
/** RFC 3986 §5.2.4 on `/`-separated segments; empty segments kept (a server that does not merge slashes). */
function removeDots(p: string): string {
  const out: string[] = [];
  const segs = p.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return `/${out.join('/')}`;
}
const normpath = (p: string) => removeDots(p.replace(/\/{2,}/g, '/'));
const stripParams = (p: string) =>
  p
    .split('/')
    .map((s) => s.split(';', 1)[0])
    .join('/');

const DECODERS: Record<string, (p: string) => string | null> = {
  // The request target is appended to the origin, as @hono/node-server builds the Request's URL.
  whatwg: (p) => new URL(`http://h.invalid${p}`).pathname,
  whatwgThenDecode: (p) => {
    const d = strictDecode(new URL(`http://h.invalid${p}`).pathname);
    return d === null ? null : removeDots(d);
  },
  decodeOnce: (p) => {
    const d = strictDecode(p);
    return d === null ? null : removeDots(d);
  },
  decodeTwice: (p) => {
    const once = strictDecode(p);
    const twice = once === null ? null : strictDecode(once);
    return twice === null ? null : removeDots(twice);
  },
  python: (p) => normpath(unquote(p)),
  pythonTwice: (p) => normpath(unquote(unquote(p))),
  tomcat: (p) => removeDots(unquote(stripParams(p))),
  tomcatDecodedParams: (p) => removeDots(stripParams(unquote(p))),
  mergingProxy: (p) => normpath(unquote(p).replace(/\\/g, '/')),
};
const reservedTo = (x: string | null) => x !== null && (x === '/__gate' || x.startsWith('/__gate/'));
const readers = (p: string) =>
  Object.entries(DECODERS)
    .filter(([, d]) => reservedTo(d(p)))
    .map(([n]) => n);

/** Path segments built from the pieces attacks are made of. */
const piece = fc.constantFrom(
  '__gate',
  '%5F_gate',
  '%5f%5fgate',
  '__%67ate',
  '_%5Fgate',
  '__GATE',
  'x',
  'a',
  'sw.js',
  'docs',
  'secret',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2e%2e',
  '.%2e',
  '%252e%252e',
  '%252e',
  '..;',
  '.;',
  '..;x',
  ';p',
  '%3b',
  '..%3b',
  '%2f',
  '%2F',
  '%252f',
  '%5c',
  '%5C',
  '\\',
  '%255c',
  '%',
  '%zz',
  '%25',
  '',
);
const segment = fc.array(piece, { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
const separator = fc.constantFrom('/', '/', '/', '%2f', '%252f', '\\', '//', '%5c');
const path = fc
  .tuple(fc.array(fc.tuple(separator, segment), { minLength: 1, maxLength: 6 }))
  .map(([parts]) => `/${parts.map(([sep, seg], i) => (i === 0 ? seg : sep + seg)).join('')}`);

describe('path normalisation (broker/core/http/paths.ts)', () => {
  it('every path some decoder reads as /__gate/… is reserved', () => {
    fc.assert(
      fc.property(path, (p) => {
        if (readers(p).length > 0) expect([p, isReservedPath(p)]).toEqual([p, true]);
      }),
      // Kept: a counterexample fast-check once found (seed 1629141794). The URL parser turns the
      // raw `\` into `/` before the `%5c` is decoded, a mix that only the WHATWG starting text
      // of paths.ts#decodings covers (whatwgThenDecode reads it as /__gate/..\__GATE/__gate).
      { numRuns: 3000, examples: [['/%5F_gate\\.%2e%5c__GATE/__gate']] },
    );
  });

  it('normalised paths have no dot or empty segments, no `\\` and no `;`, and normalising twice changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(path, fc.string()), (p) => {
        const n = normalisePath(p);
        expect(n.startsWith('/')).toBe(true);
        expect(
          n
            .slice(1)
            .split('/')
            .filter((s) => s === '' || s === '.' || s === '..'),
        ).toEqual(n === '/' ? [''] : []);
        expect(n.startsWith('//')).toBe(false);
        expect(/[\\;]/.test(n)).toBe(false);
        expect(normalisePath(n)).toBe(n);
        expect(pathReadings(p)).toContain(normalisePath(p));
      }),
      { numRuns: 2000 },
    );
  });

  it('a path in a share scope stays in it under every decoder', () => {
    fc.assert(
      fc.property(
        path.map((p) => `/docs${p}`),
        (p) => {
          if (!inScope(p, '/docs')) return;
          for (const [name, d] of Object.entries(DECODERS)) {
            const r = d(p);
            if (r !== null) expect([name, p, r === '/docs' || r.startsWith('/docs/')]).toEqual([name, p, true]);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('an accepted launch path is never read as /__gate/… by any decoder', () => {
    fc.assert(
      fc.property(path, fc.constantFrom('', '?a=1', '?x=/__gate/'), (p, q) => {
        let ok: string | undefined;
        try {
          ok = validPath(p + q);
        } catch {
          return;
        }
        if (ok !== undefined) expect([p, readers(p)]).toEqual([p, []]);
      }),
      { numRuns: 2000 },
    );
  });

  it('through the gateway: no generated path that a decoder reads as /__gate/… reaches the upstream', async () => {
    const t = await makeGateway();
    const { cookie } = await t.launch();
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        t.upstream.seen.length = 0;
        let res: Response;
        try {
          res = await t.preview(p, { headers: { cookie } });
        } catch {
          return; // not even a URL: nothing is sent
        }
        await res.arrayBuffer();
        for (const s of t.upstream.seen) {
          const forwarded = new URL(s.request.url);
          expect([p, forwarded.pathname, readers(forwarded.pathname)]).toEqual([p, forwarded.pathname, []]);
        }
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});
