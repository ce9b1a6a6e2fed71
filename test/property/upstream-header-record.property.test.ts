/**
 * The upstream headers built as one plain record (broker/core/upstream/forward.ts
 * upstreamHeaderRecord) instead of a Headers copy edited in place (`upstreamHeaders`). Property:
 * for any client headers, link, client address and body length, the record holds exactly the
 * names and values the Headers way gives (test/gateway/node-client-abort.test.ts proves a
 * proxied request takes the record path).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { upstreamHeaderRecord, upstreamHeaders } from '../../broker/core/upstream/forward.js';

const name = fc.oneof(
  fc.constantFrom(
    'host',
    'expect',
    'connection',
    'keep-alive',
    'proxy-connection',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'proxy-authorization',
    'x-daytona-preview-token',
    'x-daytona-disable-cors',
    'x-daytona-skip-last-activity-update',
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'content-length',
    'cookie',
    'accept',
    'x-app',
    'X-Custom',
    '__proto__',
    'constructor',
  ),
  fc.string({ unit: fc.constantFrom('a', 'b', 'x', '-', '_', '1', 'D', '.'), minLength: 1, maxLength: 8 }),
);
const value = fc.oneof(
  fc.constantFrom('1', 'close, x-app', 'keep-alive, X-Custom , accept', '10.0.0.1', 'a=b; c=d', '', '100-continue'),
  fc.string({ unit: fc.constantFrom('a', ' ', ',', '=', ';', '0', 'Z', '/'), maxLength: 12 }),
);
const headers = fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => {
  const h = new Headers();
  for (const [n, v] of pairs) h.append(n, v);
  return h;
});
const link = fc.record({
  url: fc.constant('http://3000-sbx.proxy.localhost:4000'),
  token: fc.constantFrom('daytona-token', 'tok.with.dots'),
  signed: fc.option(fc.boolean(), { nil: undefined }),
});
const publicUrl = fc.constantFrom('https://3000-sbx.preview.example/p?q=1', 'http://8080-sbx.preview.localhost:8787/');
const meta = fc.option(fc.record({ clientAddress: fc.constantFrom('192.0.2.1', '::1') }), { nil: undefined });
const length = fc.constantFrom<string | null | undefined>(undefined, null, '0', '42');

/** The Headers way, as buildUpstreamInit did it before the record. */
function viaHeaders(
  h: Headers,
  url: URL,
  l: { url: string; token: string },
  m: { clientAddress: string } | undefined,
  skip: boolean,
  len: string | null | undefined,
) {
  const out = upstreamHeaders(h, url, l, m, skip);
  if (len === null) out.delete('content-length');
  else if (len !== undefined) out.set('content-length', len);
  const record: Record<string, string> = {};
  out.forEach((v, n) => {
    record[n] = v;
  });
  return record;
}

describe('upstream headers as one record', () => {
  it('equal the Headers way for any client headers, link, address and length', () => {
    fc.assert(
      fc.property(headers, publicUrl, link, meta, fc.boolean(), length, (h, u, l, m, skip, len) => {
        const url = new URL(u);
        let expected: Record<string, string>;
        try {
          expected = viaHeaders(h, url, l, m, skip, len);
        } catch {
          return; // a Connection token Headers refuses as a name: the Headers way throws; never forwarded (sanitizeHeaders drops Connection first)
        }
        const got = upstreamHeaderRecord(h, url, l, m, skip, len);
        expect(Object.entries(got).sort()).toEqual(Object.entries(expected).sort());
      }),
      { numRuns: 5000 },
    );
  });
});
