/**
 * The waiting page's logic (sw/page/waiting.ts): backoff, the bound (also across reloads), and
 * what counts as "the app answers". Fakes for fetch, the clock and sleep; the real thing runs in
 * Chromium in test/e2e/pages-waiting.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { delayBefore, MAX_DELAY_MS, MAX_WAIT_MS, probe, resumeWait, saveWait, waitForApp } from '../../sw/page/waiting.js';

const waitingAnswer = (code = 'app_not_listening', status = 502) =>
  new Response(JSON.stringify({ error: { code, message: 'x' } }), { status, headers: { 'content-type': 'application/json' } });

describe('a check', () => {
  it('a coded waiting answer is still waiting; a bare 502 too; no answer at all keeps waiting', async () => {
    expect(await probe('http://x/', async () => waitingAnswer())).toBe('waiting');
    expect(await probe('http://x/', async () => waitingAnswer('sandbox_starting', 503))).toBe('waiting');
    expect(await probe('http://x/', async () => new Response(null, { status: 502 }))).toBe('waiting');
    expect(
      await probe('http://x/', async () => {
        throw new TypeError('Failed to fetch');
      }),
    ).toBe('unreachable');
  });
  it("anything else is a change: the app's page, the app's own 502 with a body, another gateway error", async () => {
    expect(await probe('http://x/', async () => new Response('<h1>app</h1>', { status: 200 }))).toBe('changed');
    expect(await probe('http://x/', async () => new Response('nginx says bad gateway', { status: 502, headers: { 'content-type': 'text/html' } }))).toBe(
      'changed',
    );
    expect(await probe('http://x/', async () => waitingAnswer('sandbox_stopped', 503))).toBe('changed');
    expect(await probe('http://x/', async () => waitingAnswer('session_revoked', 401))).toBe('changed');
  });
  it('asks for JSON, same-origin credentials, no cache, no redirect following', async () => {
    let seen: RequestInit | undefined;
    await probe('http://x/page', async (_u, init) => {
      seen = init;
      return waitingAnswer();
    });
    expect(seen).toMatchObject({ credentials: 'same-origin', cache: 'no-store', redirect: 'manual', headers: { accept: 'application/json' } });
  });
});

describe('the wait', () => {
  it('backs off from 1 s by 1.5× up to a ceiling', () => {
    expect([0, 1, 2, 3].map(delayBefore)).toEqual([1000, 1500, 2250, 3375]);
    expect(delayBefore(30)).toBe(MAX_DELAY_MS);
  });

  function clock() {
    let t = 1_000_000;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  }

  it('opens the app as soon as a check sees it', async () => {
    const c = clock();
    const answers = [waitingAnswer(), waitingAnswer(), new Response('app')];
    let ready = 0;
    const progress: (number | null)[] = [];
    const opened = await waitForApp({
      url: 'http://x/',
      fetchImpl: async () => answers.shift()!,
      ...c,
      onReady: () => ready++,
      onProgress: (s) => progress.push(s),
    });
    expect(opened).toBe(true);
    expect(ready).toBe(1);
    expect(progress).toEqual([1, 2, 3]);
  });

  it('is bounded: stops after MAX_WAIT_MS and says so (null), never calling onReady', async () => {
    const c = clock();
    let checks = 0;
    const progress: (number | null)[] = [];
    const opened = await waitForApp({
      url: 'http://x/',
      fetchImpl: async () => {
        checks++;
        return waitingAnswer();
      },
      ...c,
      onReady: () => expect.unreachable(),
      onProgress: (s) => progress.push(s),
    });
    expect(opened).toBe(false);
    expect(progress.at(-1)).toBeNull();
    expect(checks).toBeGreaterThan(10);
    expect(checks).toBeLessThan(MAX_WAIT_MS / 1000);
  });

  it('the bound holds across reloads: a wait resumed from storage goes on from where it was', async () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const c = clock();
    // First page load: two checks, then the "app" answers (and the page reloads).
    const answers = [waitingAnswer(), new Response('app')];
    await waitForApp({
      url: 'http://x/',
      from: resumeWait('http://x/', c.now(), storage),
      onAttempt: (p) => saveWait('http://x/', p, storage),
      fetchImpl: async () => answers.shift()!,
      ...c,
      onReady() {},
      onProgress() {},
    });
    // The waiting page came back: the wait resumes (same start, later attempt), so the delays keep growing.
    const resumed = resumeWait('http://x/', c.now(), storage);
    expect(resumed.attempt).toBe(2);
    expect(resumed.started).toBe(1_000_000);
    // Another address, or a wait long over, starts afresh.
    expect(resumeWait('http://x/other', c.now(), storage).attempt).toBe(0);
    expect(resumeWait('http://x/', c.now() + MAX_WAIT_MS + 120_000, storage).attempt).toBe(0);
  });
});
