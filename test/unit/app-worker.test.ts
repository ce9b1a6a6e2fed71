/**
 * broker/core/app-worker.ts: how the gateway wraps an app's own Service Worker script around its
 * own (ARCHITECTURE.md flow 15), and when it passes it unchanged. Through the real gateway and
 * browsers: test/e2e/app-worker-gateway.test.ts and test/e2e/app-worker*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { APP_WORKER_HEADER, MAX_APP_WORKER_BYTES, isAppWorkerScript, looksLikeModule, wrapAppWorkerAnswer } from '../../broker/core/app-worker.js';
import type { Logger } from '../../broker/core/contracts.js';

const URL_ = new URL('http://3000-abc.preview.localhost:8787/sw.js');

function collect(): { logger: Logger; lines: unknown[] } {
  const lines: unknown[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, ...fields });
  return { lines, logger: { info: keep, warn: keep, error: keep } };
}

const js = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/javascript', etag: '"a"', 'last-modified': 'x', ...headers } });

describe('the app worker script wrapper', () => {
  it('recognises only the browser fetch of a worker script (GET + Service-Worker: script)', () => {
    expect(isAppWorkerScript(new Request(URL_, { headers: { 'service-worker': 'script' } }))).toBe(true);
    expect(isAppWorkerScript(new Request(URL_))).toBe(false);
    expect(isAppWorkerScript(new Request(URL_, { method: 'POST', headers: { 'service-worker': 'script' }, body: 'x' }))).toBe(false);
  });

  it('wraps a classic script: our worker first, the app script byte for byte, then finish()', async () => {
    const app = "self.addEventListener('fetch', () => {}); // ends in a comment, no newline";
    const { logger, lines } = collect();
    const res = await wrapAppWorkerAnswer(js(app, { 'content-length': String(app.length) }), URL_, logger);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get(APP_WORKER_HEADER)).toBe('classic');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const h of ['etag', 'last-modified', 'content-length']) expect(res.headers.get(h)).toBeNull();
    const ours = text.indexOf("importScripts('/__gate/sw.js');");
    const theirs = text.indexOf(app);
    const finish = text.indexOf('self.__previewGate && self.__previewGate.finish();');
    expect(ours).toBeGreaterThanOrEqual(0);
    expect(theirs).toBeGreaterThan(ours);
    expect(finish).toBeGreaterThan(theirs + app.length); // on a line of its own after the comment
    expect(text.slice(theirs + app.length, finish)).toMatch(/^\n;$/);
    expect(lines).toEqual([]);
  });

  it('wraps a module script with a static import, and the wrapper changes whenever the app script does', async () => {
    const v1 = "import { precache } from './lib.js';\nprecache(['/']);\nexport const v = 1;\n";
    const res = await wrapAppWorkerAnswer(js(v1), URL_, collect().logger);
    const text = await res.text();
    expect(res.headers.get(APP_WORKER_HEADER)).toBe('module');
    expect(text).toMatch(/^\/\*[^\n]*\*\/\nimport '\/__gate\/sw\.js';\nimport \{ precache \}/);
    const v2 = await (await wrapAppWorkerAnswer(js(v1.replace('v = 1', 'v = 2')), URL_, collect().logger)).text();
    expect(v2).not.toBe(text);
    expect(v2.replace('v = 2', 'v = 1')).toBe(text);
  });

  it('tells module scripts from classic ones by their static import/export lines only', () => {
    expect(looksLikeModule("import './a.js';")).toBe(true);
    expect(looksLikeModule('export default 1;')).toBe(true);
    expect(looksLikeModule('export { a };')).toBe(true);
    expect(looksLikeModule("const m = import('./lazy.js');")).toBe(false); // dynamic import is classic-legal
    expect(looksLikeModule("importScripts('/workbox.js');")).toBe(false);
    expect(looksLikeModule("/*\nimport './commented.js';\n*/\nself.x = 1;")).toBe(false);
    expect(looksLikeModule('self.importantThing = 1;\nconst exported = 2;')).toBe(false);
  });

  it('passes unchanged, and says why, what cannot be wrapped: not JavaScript, compressed, too large', async () => {
    const cases: [Response, string][] = [
      [new Response('<html>', { headers: { 'content-type': 'text/html' } }), 'not-javascript'],
      [js(new Uint8Array([0x1f, 0x8b, 0]), { 'content-encoding': 'gzip' }), 'encoded'],
      [js('x', { 'content-length': String(MAX_APP_WORKER_BYTES + 1) }), 'too-large'],
    ];
    for (const [answer, reason] of cases) {
      const { logger, lines } = collect();
      const res = await wrapAppWorkerAnswer(answer, URL_, logger);
      expect(res.headers.get(APP_WORKER_HEADER)).toBe(`unwrapped; reason=${reason}`);
      expect(await res.text()).not.toContain('__gate');
      expect(lines).toEqual([{ event: 'app_worker_unwrapped', host: URL_.host, path: '/sw.js', reason }]);
    }
  });

  it('a script that turns out larger than the cap while read is a coded 502, not a truncated worker', async () => {
    const big = new Uint8Array(MAX_APP_WORKER_BYTES + 10).fill(0x20);
    await expect(wrapAppWorkerAnswer(js(big), URL_, collect().logger)).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('other statuses pass untouched (a 304 keeps the wrapper the browser has; an error stays the error)', async () => {
    for (const status of [304, 404, 500]) {
      const answer = new Response(status === 304 ? null : 'e', { status, headers: { 'content-type': 'text/javascript' } });
      expect(await wrapAppWorkerAnswer(answer, URL_, collect().logger)).toBe(answer);
    }
  });
});
