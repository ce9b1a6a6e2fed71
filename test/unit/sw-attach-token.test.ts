import { describe, expect, it } from 'vitest';
import { rebuildRequest, shouldIntercept } from '../../sw/worker/attach-token.js';

const ORIGIN = 'http://3000-abc.preview.localhost:8787';
const shape = (url: string, headers: Record<string, string> = {}, destination = '') => ({ url, headers: new Headers(headers), destination });

describe('sw: which requests get the token', () => {
  it('never sends the token to another origin (another port, another sandbox, another site)', () => {
    expect(shouldIntercept(shape(`${ORIGIN}/api`), ORIGIN)).toBe(true);
    expect(shouldIntercept(shape('http://8080-abc.preview.localhost:8787/api'), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape('http://3000-other.preview.localhost:8787/api'), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape('http://127.0.0.1:9999/collect'), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape('https://3000-abc.preview.localhost:8787/api'), ORIGIN)).toBe(false);
  });

  it('leaves the gateway paths, EventSource, media and range requests alone', () => {
    expect(shouldIntercept(shape(`${ORIGIN}/__gate/refresh`), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape(`${ORIGIN}/__gate/sw.js`), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape(`${ORIGIN}/events`, { accept: 'text/event-stream' }), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape(`${ORIGIN}/movie.mp4`, {}, 'video'), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape(`${ORIGIN}/big`, { range: 'bytes=0-' }), ORIGIN)).toBe(false);
    expect(shouldIntercept(shape('not a url'), ORIGIN)).toBe(false);
  });
});

describe('sw: rebuilding the request', () => {
  it('adds the token and the via header, keeps method, headers and body', async () => {
    const original = new Request(`${ORIGIN}/api/echo?x=1`, { method: 'POST', headers: { 'x-custom': 'yes' }, body: 'hello' });
    const body = await original.clone().arrayBuffer();
    const out = rebuildRequest(original, body, 'tok');
    expect(out.url).toBe(`${ORIGIN}/api/echo?x=1`);
    expect(out.method).toBe('POST');
    expect(out.headers.get('x-custom')).toBe('yes');
    expect(out.headers.get('x-daytona-preview-token')).toBe('tok');
    expect(out.headers.get('x-preview-gate-via')).toBe('worker');
    expect(await out.text()).toBe('hello');
    expect(out.redirect).toBe('follow');
  });

  it('a navigation becomes a same-origin request with manual redirects (mode navigate cannot be re-issued)', () => {
    const nav = new Request(`${ORIGIN}/page`, { headers: { accept: 'text/html' } });
    Object.defineProperty(nav, 'mode', { value: 'navigate' });
    const out = rebuildRequest(nav, null, 'tok');
    expect(out.redirect).toBe('manual');
    expect(out.headers.get('accept')).toBe('text/html');
  });

  it('without a token, strips any token header a page tried to set', () => {
    const original = new Request(`${ORIGIN}/x`, { headers: { 'x-daytona-preview-token': 'forged' } });
    expect(rebuildRequest(original, null, null).headers.has('x-daytona-preview-token')).toBe(false);
  });
});
