/** Pure header rules of the upstream side: hop-by-hop removal, upstream headers, hygiene, Daytona answers. */
import { describe, expect, it } from 'vitest';
import {
  classifyDaytonaError,
  connectionTokens,
  isHopByHop,
  isIdentityProviderRedirect,
  rewriteDaytonaUrl,
  sanitizeResponseHeaders,
  stripHopByHop,
  upstreamHeaders,
} from '../../broker/core/upstream/index.js';

const link = { url: 'http://3000-sbx.proxy.localhost:4000', token: 'daytona-secret-token' };
const ctx = {
  target: { sandboxId: 'sbx', port: 3000 },
  link,
  previewOrigin: (t: { sandboxId: string; port: number }) => `https://${t.port}-${t.sandboxId}.preview.example`,
};

describe('hop-by-hop (RFC 9110 §7.6.1)', () => {
  it('drops Connection, the fields it names and the fixed list', () => {
    const h = stripHopByHop(
      new Headers({
        connection: 'close, X-Custom',
        'x-custom': '1',
        'keep-alive': 'x',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        upgrade: 'ws',
        'proxy-connection': 'x',
        trailer: 'y',
        accept: '*/*',
      }),
    );
    expect([...h.keys()]).toEqual(['accept']);
  });
});

describe('upstreamHeaders', () => {
  it('sets Daytona token, skip-warning and disable-CORS; replaces X-Forwarded-Host/Proto; drops client x-daytona-* and Host', () => {
    const h = upstreamHeaders(
      new Headers({
        host: 'evil',
        'x-forwarded-host': 'evil',
        'x-daytona-preview-token': 'client-supplied',
        'x-daytona-disable-cors': 'false',
        expect: '100-continue',
        'x-forwarded-for': '10.0.0.1',
      }),
      new URL('https://3000-sbx.preview.example/p?q=1'),
      link,
      { clientAddress: '192.0.2.1' },
    );
    expect(h.get('host')).toBeNull();
    expect(h.get('expect')).toBeNull();
    expect(h.get('x-daytona-preview-token')).toBe(link.token);
    expect(h.get('x-daytona-skip-preview-warning')).toBe('true');
    expect(h.get('x-daytona-disable-cors')).toBe('true');
    expect(h.get('x-forwarded-host')).toBe('3000-sbx.preview.example');
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('x-forwarded-for')).toBe('10.0.0.1, 192.0.2.1');
  });
});

describe('response hygiene', () => {
  it('rewrites Daytona-host URLs of the same sandbox (any port) and leaves others alone', () => {
    expect(rewriteDaytonaUrl('http://3000-sbx.proxy.localhost:4000/a?b=1#c', ctx)).toBe('https://3000-sbx.preview.example/a?b=1#c');
    expect(rewriteDaytonaUrl('http://8080-sbx.proxy.localhost:4000/', ctx)).toBe('https://8080-sbx.preview.example/');
    expect(rewriteDaytonaUrl('/relative', ctx)).toBe('/relative');
    expect(rewriteDaytonaUrl('https://github.com/login', ctx)).toBe('https://github.com/login');
    expect(rewriteDaytonaUrl('http://3000-other.proxy.localhost:4000/', ctx)).toBe('http://3000-other.proxy.localhost:4000/');
  });

  it("drops Daytona's cookies and any header carrying the token", () => {
    const h = new Headers();
    h.append('set-cookie', 'daytona-sandbox-auth-sbx=v; Path=/');
    h.append('set-cookie', 'pkce_verifier=v');
    h.append('set-cookie', 'session=app');
    h.append('x-debug', `token ${link.token}`);
    h.append('connection', 'close');
    sanitizeResponseHeaders(h, ctx);
    expect(h.getSetCookie()).toEqual(['session=app']);
    expect(h.get('x-debug')).toBeNull();
    expect(h.get('connection')).toBeNull();
  });
});

describe("telling Daytona's answers from the app's", () => {
  const idp = (location: string, cookie?: string) => new Response(null, { status: 307, headers: cookie ? { location, 'set-cookie': cookie } : { location } });

  it('recognises the 307 to the identity provider, not an app redirect', () => {
    expect(isIdentityProviderRedirect(idp('http://127.0.0.1:4000/idp/authorize?response_type=code&code_challenge=x'), link.url)).toBe(true);
    expect(isIdentityProviderRedirect(idp('https://auth.example/o', 'pkce_verifier=abc; Path=/'), link.url)).toBe(true);
    expect(isIdentityProviderRedirect(idp('/login'), link.url)).toBe(false);
    expect(isIdentityProviderRedirect(idp('http://3000-sbx.proxy.localhost:4000/x'), link.url)).toBe(false);
    expect(isIdentityProviderRedirect(idp('https://github.com/login/oauth'), link.url)).toBe(false);
  });

  it('classifies stopped, gone, rejected and leaves app JSON alone', () => {
    const body = (statusCode: number, message: string, code = 'BAD_REQUEST') =>
      JSON.stringify({ statusCode, message, code, timestamp: new Date().toISOString(), path: '/', method: 'GET' });
    expect(classifyDaytonaError(400, body(400, 'bad request: no IP address found. Is the Sandbox started?')).kind).toBe('stopped');
    expect(classifyDaytonaError(400, body(400, 'x', 'SANDBOX_NOT_STARTED')).kind).toBe('stopped');
    expect(classifyDaytonaError(404, body(404, 'sandbox not found', 'NOT_FOUND')).kind).toBe('gone');
    expect(classifyDaytonaError(403, body(403, 'Invalid or expired token', 'FORBIDDEN')).kind).toBe('rejected');
    expect(classifyDaytonaError(502, body(502, 'runner is unreachable', 'RUNNER_UNREACHABLE')).kind).toBe('runner_unreachable');
    expect(classifyDaytonaError(400, JSON.stringify({ error: 'validation failed' })).kind).toBe('app');
    expect(classifyDaytonaError(404, '{"statusCode":404,"message":"no such user"}').kind).toBe('app');
  });
});

describe('Connection tokens (hop-by-hop.ts connectionTokens, remembered per value)', () => {
  it('splits, trims and lower-cases; the same value gives the same frozen list, another value its own', () => {
    const a = connectionTokens(' Keep-Alive , X-Preview-Gate-Identity,,');
    expect(a).toEqual(['keep-alive', 'x-preview-gate-identity']);
    expect(connectionTokens(' Keep-Alive , X-Preview-Gate-Identity,,')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(connectionTokens('Upgrade')).toEqual(['upgrade']);
    expect(connectionTokens(null)).toEqual([]);
    expect(connectionTokens('')).toEqual([]);
  });

  it('a header the Connection value names is hop-by-hop; one it does not name is not (positive control)', () => {
    const named = connectionTokens('keep-alive, x-app-secret');
    expect(isHopByHop('x-app-secret', named)).toBe(true);
    expect(isHopByHop('transfer-encoding', [])).toBe(true);
    expect(isHopByHop('x-app-other', named)).toBe(false);
  });
});
