/**
 * Threat: the Service Worker attaching the access token to a request for another origin
 * (another port or sandbox of the same preview domain, a look-alike host, another scheme) or
 * to the gateway's own /__gate/ endpoints. `shouldIntercept` decides; it must compare whole
 * origins, not prefixes.
 */
import { describe, expect, it } from 'vitest';
import { shouldIntercept } from '../../sw/worker/attach-token.js';

const SELF = 'http://3000-abc.preview.localhost:8787';
const req = (url: string, headers: Record<string, string> = {}, destination = '') => ({ url, headers: new Headers(headers), destination });

describe('Service Worker attaches tokens to its own origin only', () => {
  it('other origins never get the token, however close they look', () => {
    const others = [
      'http://8080-abc.preview.localhost:8787/x',
      'http://3000-abd.preview.localhost:8787/x',
      'http://3000-abc.preview.localhost:8788/x',
      'http://3000-abc.preview.localhost/x',
      'https://3000-abc.preview.localhost:8787/x',
      'http://3000-abc.preview.localhost:8787.evil.example/x',
      'http://3000-abc.preview.localhost.evil.example:8787/x',
      'http://evil.example/http://3000-abc.preview.localhost:8787/',
      'http://evil.example/?u=http://3000-abc.preview.localhost:8787',
      'ws://3000-abc.preview.localhost:8787/ws',
      'data:text/plain,http://3000-abc.preview.localhost:8787',
      'http://127.0.0.1:8787/api/previews',
      'not a url',
    ];
    for (const u of others) expect([u, shouldIntercept(req(u), SELF)]).toEqual([u, false]);
  });

  it('same-origin spellings (case, default-less userinfo) are the same origin; /__gate/ is never intercepted', () => {
    expect(shouldIntercept(req('http://3000-ABC.preview.localhost:8787/x'), SELF)).toBe(true);
    expect(shouldIntercept(req('http://u:p@3000-abc.preview.localhost:8787/x'), SELF)).toBe(true);
    for (const p of ['/__gate/refresh', '/__gate/session', '/__gate/sw.js', '/x/../__gate/refresh']) {
      expect([p, shouldIntercept(req(SELF + p), SELF)]).toEqual([p, false]);
    }
  });

  it('long streams keep the cookie path (EventSource, media, ranges)', () => {
    expect(shouldIntercept(req(`${SELF}/events`, { accept: 'text/event-stream' }), SELF)).toBe(false);
    expect(shouldIntercept(req(`${SELF}/v.mp4`, {}, 'video'), SELF)).toBe(false);
    expect(shouldIntercept(req(`${SELF}/f`, { range: 'bytes=0-' }), SELF)).toBe(false);
  });
});
