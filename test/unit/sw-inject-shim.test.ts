/**
 * The cookie-less path's worker pieces: where the WebSocket wrapper's tag goes in the app's HTML
 * (sw/worker/inject-shim.ts), the CSP nonce it borrows, which requests the worker takes on that
 * path (attach-token.ts), and the renewal keeping the `cookieless` mark (renew.ts).
 */
import { describe, expect, it } from 'vitest';
import { insertionPoint, scriptNonce, shimTag, withShim } from '../../sw/worker/inject-shim.js';
import { isEventStream, isTicketRequest, shouldIntercept } from '../../sw/worker/attach-token.js';
import { createRenewer } from '../../sw/worker/renew.js';
import { createTokenStore } from '../../sw/worker/token-store.js';

const TAG = '<script src="/__gate/ws.js"></script>';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const s of chunks) c.enqueue(enc.encode(s));
      c.close();
    },
  });
}

async function shimmed(chunks: string[], headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' }): Promise<string> {
  return withShim(new Response(streamOf(chunks), { headers })).text();
}

describe("worker: the WebSocket wrapper goes first in the app's HTML", () => {
  it('right after <head>, before any script of the app, even when the tag is split across chunks', async () => {
    const page = ['<!doctype html><html lang="en"><he', 'ad data-x="1">', '<script src="/app.js"></script></head><body>hi</body></html>'];
    expect(await shimmed(page)).toBe(`<!doctype html><html lang="en"><head data-x="1">${TAG}<script src="/app.js"></script></head><body>hi</body></html>`);
  });

  it('without a head tag: after <html>, else after the doctype, else first; <header> is not <head>', () => {
    expect(insertionPoint('<!DOCTYPE html><html><body>', true)).toBe('<!DOCTYPE html><html>'.length);
    expect(insertionPoint('<!doctype html><script>x()</script>', true)).toBe('<!doctype html>'.length);
    expect(insertionPoint('<p>bare', true)).toBe(0);
    expect(insertionPoint('<!doctype html><html><body><header>', true)).toBe('<!doctype html><html>'.length);
    expect(insertionPoint('<!doctype html><html>', false)).toBeUndefined(); // the head may still come
  });

  it('keeps status and headers, drops Content-Length (the body grew); not HTML or a redirect: untouched', async () => {
    const res = withShim(new Response('<head></head>', { status: 404, headers: { 'content-type': 'text/html', 'content-length': '13', 'x-app': '1' } }));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('x-app')).toBe('1');
    expect(await res.text()).toBe(`<head>${TAG}</head>`);
    const json = new Response('{"a":"<head>"}', { headers: { 'content-type': 'application/json' } });
    expect(withShim(json)).toBe(json);
    const redirect = new Response(null, { status: 302, headers: { location: '/x', 'content-type': 'text/html' } });
    expect(withShim(redirect)).toBe(redirect);
  });

  it('borrows the nonce of a nonce-based script policy, so a strict app CSP still runs it', async () => {
    expect(scriptNonce("default-src 'self'; script-src 'nonce-abc123' 'strict-dynamic'")).toBe('abc123');
    expect(scriptNonce("default-src 'nonce-d3f'")).toBe('d3f');
    expect(scriptNonce("script-src-elem 'nonce-e1'; script-src 'nonce-s1'")).toBe('e1');
    expect(scriptNonce("script-src 'self'")).toBeUndefined();
    expect(scriptNonce(null)).toBeUndefined();
    expect(scriptNonce("script-src 'nonce-a', script-src 'nonce-b'")).toBeUndefined(); // two policies, no one nonce passes both
    const html = await shimmed(['<head></head>'], { 'content-type': 'text/html', 'content-security-policy': "script-src 'nonce-xyz'" });
    expect(html).toBe(`<head>${shimTag('xyz')}</head>`);
    expect(shimTag('xyz')).toBe('<script src="/__gate/ws.js" nonce="xyz"></script>');
  });
});

describe('worker: what it carries on the cookie-less path', () => {
  const ORIGIN = 'http://3000-abc.preview.localhost:8787';
  const req = (url: string, method = 'GET', headers: Record<string, string> = {}) => ({ url, method, headers: new Headers(headers), destination: '' });

  it('gives the token to POST /__gate/ws-ticket of its own origin only (no other gateway path, no other origin)', () => {
    expect(isTicketRequest(req(`${ORIGIN}/__gate/ws-ticket`, 'POST'), ORIGIN)).toBe(true);
    expect(isTicketRequest(req(`${ORIGIN}/__gate/ws-ticket`, 'GET'), ORIGIN)).toBe(false);
    expect(isTicketRequest(req(`${ORIGIN}/__gate/refresh`, 'POST'), ORIGIN)).toBe(false);
    expect(isTicketRequest(req('http://8080-abc.preview.localhost:8787/__gate/ws-ticket', 'POST'), ORIGIN)).toBe(false);
    // The general rule still leaves every /__gate/ path alone.
    expect(shouldIntercept(req(`${ORIGIN}/__gate/ws-ticket`, 'POST'), ORIGIN)).toBe(false);
  });

  it('recognises same-origin EventSource requests (never under /__gate/, never another origin)', () => {
    const sse = { accept: 'text/event-stream' };
    expect(isEventStream(req(`${ORIGIN}/events`, 'GET', sse), ORIGIN)).toBe(true);
    expect(isEventStream(req(`${ORIGIN}/events`), ORIGIN)).toBe(false);
    expect(isEventStream(req(`${ORIGIN}/__gate/events`, 'GET', sse), ORIGIN)).toBe(false);
    expect(isEventStream(req('http://3000-other.preview.localhost:8787/events', 'GET', sse), ORIGIN)).toBe(false);
  });

  it("a renewal keeps the grant's cookieless mark (the browser's cookie policy did not change)", async () => {
    const map = new Map<string, unknown>();
    const store = createTokenStore({ get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v), del: async (k) => void map.delete(k) });
    await store.write({ accessToken: 'a1', refreshToken: 'r1', expiresAt: 1_000, refreshExpiresAt: 99_000, receivedAt: 0, cookieless: true });
    const renewer = createRenewer({
      store,
      clock: () => 900,
      refreshUrl: 'http://x/__gate/refresh',
      fetch: async () => Response.json({ accessToken: 'a2', refreshToken: 'r2', expiresAt: 5_000, refreshExpiresAt: 99_000 }),
    });
    const result = await renewer.renew('a1');
    expect(result.kind).toBe('renewed');
    expect(await store.read()).toMatchObject({ accessToken: 'a2', cookieless: true });
  });
});
