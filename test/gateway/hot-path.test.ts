/**
 * The hot path's shortcuts are taken, and read exactly like what they replace (issue 9):
 * the forwarded request is a lightweight view (broker/core/forward-request.ts ForwardedRequest)
 * rather than a second fetch Request, for the usual methods; other methods still get the full
 * Request (and its method checks). Counters prove the fast path so it cannot switch off silently.
 */
import { describe, expect, it } from 'vitest';
import { forwardRequest, forwardStats } from '../../broker/core/forward-request.js';
import { makeGateway } from './helpers.js';

describe('the forwarded request is a lightweight view', () => {
  it('a GET through the gateway reaches the upstream side as a view, credentials stripped', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const before = forwardStats.views;
    const res = await t.preview('/api/echo?x=1&__gate_share=abc', { headers: { 'x-daytona-preview-token': grant.accessToken, 'x-app': 'kept' } });
    expect(res.status).toBe(200);
    expect(forwardStats.views - before).toBe(1);
    const seen = t.upstream.seen.at(-1)!.request;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe(`${t.origin()}/api/echo?x=1`);
    expect(seen.headers.get('x-daytona-preview-token')).toBeNull();
    expect(seen.headers.get('x-app')).toBe('kept');
    expect(seen.headers.get('x-preview-gate-identity')).toBeTruthy();
    expect(seen.body).toBeNull();
    expect(seen.redirect).toBe('manual');
    expect(seen.signal).toBeInstanceOf(AbortSignal);
  });

  it('a POST body passes through the view; text() and clone() answer like a Request', async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    let text = '';
    let cloned = '';
    t.upstream.respond = async (req) => {
      cloned = await req.clone().text();
      text = await req.text();
      return new Response('ok');
    };
    const before = forwardStats.views;
    const res = await t.preview('/upload', { method: 'POST', body: 'hello body', headers: { 'x-daytona-preview-token': grant.accessToken } });
    expect(res.status).toBe(200);
    expect(forwardStats.views - before).toBe(1);
    expect(cloned).toBe('hello body');
    expect(text).toBe('hello body');
  });

  it('a method outside the usual ones is built as a full Request (its checks apply), not as a view', () => {
    const before = forwardStats.views;
    const report = forwardRequest(new Request('http://3000-x.preview.localhost/', { method: 'REPORT' }), false, null);
    expect(report.method).toBe('REPORT');
    expect(report).toBeInstanceOf(Request);
    expect(forwardStats.views - before).toBe(0);
    expect(() => forwardRequest(new Request('http://3000-x.preview.localhost/', { method: 'POST' }), false, null)).not.toThrow();
    expect(forwardStats.views - before).toBe(1);
  });
});
