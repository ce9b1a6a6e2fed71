/**
 * Properties of the gateway's parsers of untrusted text: Host headers, cookies, tokens and the
 * redirect targets it writes (a share link's 303, a rewritten `Location`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../broker/core/config.js';
import { classifyHost, isSandboxId, previewOrigin } from '../../broker/core/http/host.js';
import { parseCookies, parseRefreshCookie, stripGateCookies } from '../../broker/core/http/cookies.js';
import { carriesGateToken, stripGateQuery } from '../../broker/core/forward-request.js';
import { rewriteDaytonaUrl } from '../../broker/core/upstream/sanitize-response.js';
import { TOKEN_TYPES } from '../../protocol/index.js';
import { REFRESH_DOMAIN } from '../../broker/core/credentials.js';
import { createSecretRecogniser } from '../../broker/core/gate-secrets.js';
import { createMemoryStore } from '../../broker/core/store/memory.js';
import { hashSecret, randomToken } from '../../broker/core/tokens/crypto.js';

const config = resolveConfig({ userJwtSecret: 'x'.repeat(32), publicPort: 8787 });
const sandboxId = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
const port = fc.integer({ min: 1, max: 65535 });
const hostish = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.string({ maxLength: 6 }),
      sandboxId,
      fc.constantFrom('.preview.localhost', '.PREVIEW.localhost.', '.preview.localhost.evil', '.evil', ''),
      fc.constantFrom('', ':8787', ':99999', ':0', ':', ':80x'),
    )
    .map(([p, id, d, pt]) => `${p}-${id}${d}${pt}`),
);

describe('Host parsing (http/host.ts)', () => {
  it('never throws, and a preview answer is always a valid port and sandbox id under the preview domain', () => {
    fc.assert(
      fc.property(hostish, (h) => {
        const k = classifyHost(config, h);
        if (k.kind !== 'preview') return;
        expect(k.target.port).toBeGreaterThanOrEqual(1);
        expect(k.target.port).toBeLessThanOrEqual(65535);
        expect(k.target.sandboxId).toMatch(/^[A-Za-z0-9_-]{1,63}$/);
        expect(h.trim().toLowerCase().split(':')[0]!.replace(/\.$/, '').endsWith('.preview.localhost')).toBe(true);
        expect(k.origin).toBe(previewOrigin(config, k.target));
      }),
      { numRuns: 3000 },
    );
  });

  it('every preview origin the gateway hands out is classified back to the same sandbox and port', () => {
    fc.assert(
      fc.property(sandboxId.filter(isSandboxId), port, (id, p) => {
        const origin = previewOrigin(config, { sandboxId: id, port: p });
        const k = classifyHost(config, new URL(origin).host);
        expect(k).toEqual({ kind: 'preview', target: { sandboxId: id, port: p }, origin });
      }),
      { numRuns: 1000 },
    );
  });
});

const cookieName = fc.oneof(
  fc.constantFrom('__Host-pg-access', '__Host-pg-refresh', '__Host-pg-x', ' __Host-pg-access', 'app', 'sid'),
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/),
);
const cookieHeader = fc
  .array(
    fc.tuple(
      cookieName,
      fc.string({ maxLength: 20 }).map((v) => v.replace(/[;\r\n]/g, '')),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join(fc.sample(fc.constantFrom('; ', ';', ';  '), 1)[0]));

describe('cookie parsing (http/cookies.ts)', () => {
  it('stripping never leaves a gateway cookie, and keeps every other pair', () => {
    fc.assert(
      fc.property(fc.oneof(cookieHeader, fc.string()), (header) => {
        const kept = stripGateCookies(header);
        const names = [...parseCookies(kept).keys()];
        expect(names.filter((n) => n.startsWith('__Host-pg-'))).toEqual([]);
        const before = [...parseCookies(header).entries()].filter(([n]) => !n.startsWith('__Host-pg-'));
        for (const [n] of before) expect(names).toContain(n);
      }),
      { numRuns: 3000 },
    );
  });

  it('the refresh cookie value is accepted only in its exact form, and round-trips', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const r = parseRefreshCookie(v);
        if (r) expect(`${r.mode === 'partitioned' ? 'p' : 'l'}.${r.token}`).toBe(v);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.constantFrom('l', 'p'), fc.stringMatching(/^[A-Za-z0-9_-]{20,200}$/), (m, t) => {
        expect(parseRefreshCookie(`${m}.${t}`)).toEqual({ mode: m === 'p' ? 'partitioned' : 'lax', token: t });
      }),
    );
  });
});

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (typ: string) => `${b64url({ alg: 'ES256', typ })}.${b64url({ sub: 'x' })}.sig`;

describe('token recognition (forward-request.ts#carriesGateToken)', () => {
  it('an Authorization value holding one of our JWT types anywhere among other words is recognised', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(TOKEN_TYPES)),
        fc.array(fc.stringMatching(/^[A-Za-z0-9._=-]{0,30}$/), { maxLength: 4 }),
        fc.nat(4),
        fc.constantFrom(' ', ', ', '\t'),
        (typ, words, at, sep) => {
          const all = [...words];
          all.splice(Math.min(at, all.length), 0, jwt(typ));
          expect(carriesGateToken(`Bearer ${all.join(sep)}`)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('other JWTs and arbitrary text are not ours (and never throw)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((t) => `Bearer ${jwt(t)}`),
        ),
        (v) => {
          const ours = Object.values(TOKEN_TYPES) as string[];
          if (ours.some((t) => v.includes(b64url({ alg: 'ES256', typ: t })))) return;
          expect(carriesGateToken(v)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('opaque credential recognition (gate-secrets.ts)', () => {
  it('a live refresh credential is recognised in any Authorization form; other words of the same shape never are', async () => {
    const store = createMemoryStore();
    const recognise = createSecretRecogniser(store, Date.now);
    const secret = randomToken();
    await store.putRefresh({ hash: await hashSecret(secret, REFRESH_DOMAIN), sessionId: 's1', generation: 0, expiresAt: Date.now() + 60_000 });
    const word = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(word, { maxLength: 3 }),
        fc.nat(3),
        fc.constantFrom('Bearer ', 'bearer  ', 'Token ', ''),
        fc.constantFrom('', 'l.', 'p.'),
        async (others, at, scheme, prefix) => {
          expect(await recognise(`${scheme}${others.join(' ')}`)).toBe(false);
          const all = [...others];
          all.splice(Math.min(at, all.length), 0, prefix + secret);
          expect(await recognise(`${scheme}${all.join(', ')}`)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    await store.close();
  });
});

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('__gate_share', '__gate_ticket', '%5F_gate_share', '%5f%5fgate%5fticket', '__gate+share', 'a', 'next', 'x'),
      fc.constantFrom('', '=1', '=//evil.example', '=http://evil.example/', '=__gate_share'),
    ),
    { maxLength: 6 },
  )
  .map((pairs) => pairs.map(([n, v]) => n + v).join('&'));
const pathPart = fc.stringMatching(/^(\/[A-Za-z0-9._~%!$&'()*+,;=:@\\-]{0,8}){1,4}$/);

describe('redirect targets', () => {
  it("a share link's 303 target stays on the preview origin and carries none of our parameters", () => {
    const origin = previewOrigin(config, { sandboxId: 'abc', port: 3000 });
    fc.assert(
      fc.property(pathPart, query, (p, q) => {
        const u = new URL(`${origin}${p}?${q}`);
        const target = origin + stripGateQuery(u.pathname + u.search);
        const t = new URL(target);
        expect(t.origin).toBe(origin);
        for (const name of t.searchParams.keys()) expect(['__gate_share', '__gate_ticket']).not.toContain(name);
      }),
      { numRuns: 2000 },
    );
  });

  it("a Location the app or Daytona writes is rewritten only to this sandbox's preview origin, never with Daytona's token", () => {
    const ctx = {
      target: { sandboxId: 'abc', port: 3000 },
      link: { url: 'http://3000-abc.proxy.localhost:4000', token: 'DAYTONA-TOKEN' },
      previewOrigin: (t: { sandboxId: string; port: number }) => previewOrigin(config, t),
    };
    const location = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.constantFrom('http://', 'https://', '//', 'HTTP://'),
          fc.constantFrom('3000-abc', '8080-abc', '3000-other', '3000-abc.evil', 'x'),
          fc.constantFrom('.proxy.localhost:4000', '.proxy.localhost', '.evil:4000', '.proxy.localhost:4000.evil'),
          pathPart,
          fc.constantFrom('', '?DAYTONA_SANDBOX_AUTH_KEY=DAYTONA-TOKEN', '?a=1&DAYTONA_SANDBOX_AUTH_KEY=t'),
        )
        .map(([s, h, d, p, q]) => `${s}${h}${d}${p}${q}`),
    );
    fc.assert(
      fc.property(location, (v) => {
        const out = rewriteDaytonaUrl(v, ctx as never);
        if (out === v) return;
        const u = new URL(out);
        expect(u.origin).toBe(previewOrigin(config, { sandboxId: 'abc', port: Number(u.hostname.split('-')[0]) }));
        expect(u.hostname.endsWith('-abc.preview.localhost')).toBe(true);
        expect(out).not.toContain('DAYTONA_SANDBOX_AUTH_KEY');
      }),
      { numRuns: 3000 },
    );
  });
});
