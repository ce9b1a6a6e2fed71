import { describe, expect, it } from 'vitest';
import { carriesGateToken, privateCacheControl, stripGateQuery, sanitizeHeaders, stripAppSetCookies } from '../../broker/core/forward-request.js';
import { stripGateCookies, parseRefreshCookie } from '../../broker/core/http/cookies.js';
import { inScope } from '../../broker/core/credentials.js';
import { classifyHost } from '../../broker/core/http/host.js';
import { resolveConfig } from '../../broker/core/config.js';
import { createMetrics } from '../../broker/core/metrics.js';
import { labelPolicy } from '../../broker/core/auth/policy.js';
import type { SandboxInfo } from '../../broker/core/contracts.js';

describe('hygiene helpers', () => {
  it('stripGateQuery removes only the gateway parameters and keeps the rest byte for byte', () => {
    expect(stripGateQuery('/a?x=1&__gate_share=t&y=a+b%20c')).toBe('/a?x=1&y=a+b%20c');
    expect(stripGateQuery('/a?__gate_ticket=t')).toBe('/a');
    expect(stripGateQuery('/a?%5F%5Fgate_share=t&k')).toBe('/a?k');
    expect(stripGateQuery('/a')).toBe('/a');
  });
  it("stripGateCookies drops every __Host-pg-* cookie and keeps the app's", () => {
    expect(stripGateCookies('a=1; __Host-pg-access=x; b=2;__Host-pg-refresh=y; __Host-pg-other=z')).toBe('a=1; b=2');
    expect(stripGateCookies('__Host-pg-access=x')).toBeNull();
  });
  it('sanitizeHeaders drops credentials and injected X-Preview-Gate-* headers', () => {
    const h = sanitizeHeaders(
      new Headers({
        'x-daytona-preview-token': 't',
        'x-preview-gate-identity': 'f',
        'x-preview-gate-x': '1',
        authorization: 'Bearer ours',
        cookie: 'a=1; __Host-pg-access=x',
        accept: '*/*',
      }),
      true,
    );
    expect([...h.keys()].sort()).toEqual(['accept', 'cookie']);
    expect(h.get('cookie')).toBe('a=1');
    expect(sanitizeHeaders(new Headers({ authorization: 'Bearer app' }), false).get('authorization')).toBe('Bearer app');
  });
  it("stripAppSetCookies removes an app's attempt to set the gateway cookies", () => {
    const h = new Headers();
    h.append('set-cookie', '__Host-pg-refresh=evil; Path=/');
    h.append('set-cookie', 'ok=1');
    stripAppSetCookies(h);
    expect(h.getSetCookie()).toEqual(['ok=1']);
  });
  it('parseRefreshCookie reads the mode prefix and refuses junk', () => {
    expect(parseRefreshCookie(`p.${'a'.repeat(43)}`)).toEqual({ mode: 'partitioned', token: 'a'.repeat(43) });
    expect(parseRefreshCookie('x.abc')).toBeNull();
    expect(parseRefreshCookie(undefined)).toBeNull();
  });
  it('inScope matches at segment boundaries and refuses encoded escapes', () => {
    expect(inScope('/docs', '/docs')).toBe(true);
    expect(inScope('/docs/a', '/docs')).toBe(true);
    expect(inScope('/docs-x', '/docs')).toBe(false);
    expect(inScope('/docs/%2e%2e/x', '/docs')).toBe(false);
    expect(inScope('/docs/a%2Fb', '/docs')).toBe(false);
    expect(inScope('/anything', '/')).toBe(true);
  });

  it('inScope refuses path parameters, double encoding and dot segments hidden behind `;`', () => {
    for (const p of [
      '/docs/..;/secret',
      '/docs/..;a=b/secret',
      '/docs/.;/..;/x',
      '/docs/%252e%252e/secret',
      '/docs/%252e%252e%252fsecret',
      '/docs/a;b',
      '/docs/%25',
      '/docs/./a',
      '/docs/../a',
    ]) {
      expect([p, inScope(p, '/docs')]).toEqual([p, false]);
    }
    expect(inScope('/docs/a.b/..c/...', '/docs')).toBe(true);
    expect(inScope('/docs/a;b', '/')).toBe(true); // no scope: nothing to escape from
  });
  it('classifyHost parses preview hosts strictly', () => {
    const c = resolveConfig({ userJwtSecret: 's'.repeat(32), publicPort: 8787 });
    expect(classifyHost(c, '3000-abc.preview.localhost:8787')).toMatchObject({
      kind: 'preview',
      target: { port: 3000, sandboxId: 'abc' },
      origin: 'http://3000-abc.preview.localhost:8787',
    });
    expect(classifyHost(c, '3000-ABC.Preview.Localhost')).toMatchObject({ kind: 'preview', target: { sandboxId: 'abc' } });
    expect(classifyHost(c, '127.0.0.1:8787').kind).toBe('gateway');
    for (const bad of ['3000-a.b.preview.localhost', '99999-a.preview.localhost', 'abc.preview.localhost', '3000-a_.preview.localhost'])
      expect(classifyHost(c, bad).kind).toBe('unknown');
  });
  it('labelPolicy: * for everyone, a list for its members, nothing without the label', () => {
    const s = (label?: string): SandboxInfo => ({
      id: 's',
      state: 'started',
      public: false,
      labels: label === undefined ? {} : { 'preview-gate.users': label },
    });
    expect(labelPolicy({ id: 'bob', claims: {} }, s('*'), 3000)).toBe(true);
    expect(labelPolicy({ id: 'bob', claims: {} }, s('alice, bob'), 3000)).toBe(true);
    expect(labelPolicy({ id: 'bo', claims: {} }, s('alice,bob'), 3000)).toBe(false);
    expect(labelPolicy({ id: 'bob', claims: {} }, s(), 3000)).toBe(false);
    expect(labelPolicy({ id: 'bob', claims: {} }, s(''), 3000)).toBe(false);
  });
});

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const m = createMetrics();
    m.declareGauge('open_now');
    m.inc('reqs_total', { class: '2xx' });
    m.inc('reqs_total', { class: '2xx' }, 2);
    m.inc('reqs_total', { class: '2xx' }, -5); // counters never go down
    m.inc('open_now');
    m.inc('open_now', undefined, -1);
    m.observe('lat_seconds', 0.02);
    const text = m.render();
    expect(text).toContain('# TYPE reqs_total counter\nreqs_total{class="2xx"} 3');
    expect(text).toContain('# TYPE open_now gauge\nopen_now 0');
    expect(text).toContain('lat_seconds_bucket{le="0.01"} 0');
    expect(text).toContain('lat_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('lat_seconds_count 1');
  });
});

describe('privateCacheControl (answers to authenticated requests stay out of shared caches)', () => {
  it.each([
    [null, 'private'],
    ['public, max-age=60', 'private, max-age=60'],
    ['max-age=60, s-maxage=600', 'private, max-age=60'],
    ['no-cache', 'private, no-cache'],
    ['private, max-age=5', null],
    ['no-store', null],
    ['Public, S-Maxage=9, must-revalidate', 'private, must-revalidate'],
  ])('%j → %j', (input, expected) => {
    expect(privateCacheControl(input)).toBe(expected);
  });
});

describe('carriesGateToken (our token never rides along in Authorization)', () => {
  const jwt = (typ: string) => `${btoa(JSON.stringify({ alg: 'ES256', typ })).replace(/=+$/, '')}.e30.sig`;
  it('finds an access token as the only credential, after another scheme, or on a second line', () => {
    expect(carriesGateToken(`Bearer ${jwt('pg-access+jwt')}`)).toBe(true);
    expect(carriesGateToken(`Bearer app-token, Bearer ${jwt('pg-access+jwt')}`)).toBe(true);
    expect(carriesGateToken(jwt('pg-share+jwt'))).toBe(true);
  });
  it("leaves the app's own credentials alone", () => {
    expect(carriesGateToken('Basic dXNlcjpwYXNz')).toBe(false);
    expect(carriesGateToken(`Bearer ${jwt('JWT')}`)).toBe(false);
    expect(carriesGateToken('Bearer not.a.jwt')).toBe(false);
    expect(carriesGateToken(null)).toBe(false);
  });
});
