/**
 * broker/core/forward-request.ts sanitizeHeaders reads the client's fields either from a Headers
 * or, from the Node edge, from Node's flat `rawHeaders` list (no Fetch Headers copy), or, on the
 * edge's lane, as a filtered copy of the request view's HeaderList (broker/node/edge-request.ts).
 * Property: for any raw field list (gateway credentials, Connection-named fields, repeated
 * Authorization and Cookie lines, names in any case among them), every reading forwards exactly
 * the same headers, and never one of ours.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeHeaders } from '../../broker/core/forward-request.js';
import { HeaderList } from '../../broker/core/http/header-list.js';

const OURS = 'eyJhbGciOiJFUzI1NiIsInR5cCI6InBnLWFjY2Vzcytqd3QifQ.e30.sig'; // header {alg: ES256, typ: pg-access+jwt}: read as ours by its typ alone
const name = fc.constantFrom(
  'Authorization',
  'authorization',
  'Cookie',
  'X-Daytona-Preview-Token',
  'X-Preview-Gate-Identity',
  'x-preview-gate-anything',
  'Connection',
  'Keep-Alive',
  'X-App',
  'x-app',
  'Accept',
  'Origin',
);
const value = fc.constantFrom('a', ' b ', 'Bearer app', `Bearer ${OURS}`, '__gate_a=1; app=2', 'x-app', 'keep-alive, X-App', 'close', '');
const raw = fc.array(fc.tuple(name, value), { maxLength: 10 }).map((pairs) => pairs.flat());

// Values compared trimmed: a repeated field whose last line is empty reads "a, " combined, which
// a Headers copy trims and the raw reading keeps; upstream/forward.ts upstreamHeaderRecord trims
// every value as a copy would (`trimmed`), so both go out as "a,".
const sorted = (h: Headers) => [...h].map(([n, v]) => `${n}\u0000${v.trim()}`).sort();

describe('sanitizeHeaders reads a raw field list exactly as the Headers it stands for', () => {
  it('forwards the same headers either way, and never a credential of ours', () => {
    fc.assert(
      fc.property(raw, fc.boolean(), (list, authorizationWasOurs) => {
        const headers = new Headers();
        for (let i = 0; i < list.length; i += 2) headers.append(list[i]!, list[i + 1]!);
        const viaHeaders = sanitizeHeaders(headers, authorizationWasOurs);
        const viaRaw = sanitizeHeaders(headers, authorizationWasOurs, list);
        expect(sorted(viaRaw)).toEqual(sorted(viaHeaders));
        // The lane's view: a HeaderList from the parser's list (its raw list is passed too, and not read).
        const viaList = sanitizeHeaders(HeaderList.fromParsed(list) as unknown as Headers, authorizationWasOurs, list);
        expect(sorted(viaList)).toEqual(sorted(viaHeaders));
        for (const [n, v] of [...viaRaw, ...viaList]) {
          // (A cookie is judged by its name, http/cookies.ts; any value under a name of the app's passes.)
          if (n === 'authorization') expect(v).not.toContain(OURS);
          expect(n.startsWith('x-preview-gate-') || n === 'x-daytona-preview-token').toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
