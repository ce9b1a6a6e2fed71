/**
 * A sandbox stopped, started and restarted repeatedly while a client keeps requesting through the
 * gateway (issue: faults survived). Without auto-start every answer is the app's, a coded
 * `sandbox_stopped` / `sandbox_starting`, or (for the moment between the sandbox starting and its
 * app listening again) the coded 502 `app_not_listening` (Daytona's bare 502), never Daytona's JSON or an uncoded gateway error, and
 * the app answers again as soon as the sandbox is back. With auto-start the gateway wakes the sandbox
 * itself, so a client that follows the coded `sandbox_starting` (Retry-After) loses no request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

let plain: Stack;
let waking: Stack;
beforeAll(async () => {
  [plain, waking] = await Promise.all([startStack({ gateway: { autoStart: false } }), startStack({ gateway: { autoStart: true } })]);
}, 60_000);
afterAll(async () => {
  await plain?.close();
  await waking?.close();
});

/** A new sandbox anyone signed in may see, and a preview of its port 3000 opened by cookie. */
async function openPreview(stack: Stack): Promise<{ id: string; cookie: string }> {
  const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
  return { id, cookie: (await stack.launch('ana', id, 3000)).cookieHeader };
}

/** Requests in a loop until `stop()`; records each answer as a status or `status code`. */
function load(stack: Stack, id: string, cookie: string) {
  const outcomes: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const res = await stack.requestPreview(id, 3000, `/api/echo?i=${i}`, { headers: { cookie, accept: 'application/json' } });
      let code = '';
      if (res.status !== 200) {
        try {
          code = ` ${res.json<{ error?: { code?: string } }>()?.error?.code ?? 'uncoded'}`;
        } catch {
          code = res.text === '' ? ' (empty)' : ' (not json)';
        }
      }
      outcomes.push(`${res.status}${code}`);
    }
  })();
  return {
    outcomes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a sandbox stopped and started repeatedly under load', () => {
  it('without auto-start: only the app, sandbox_stopped or sandbox_starting; the app answers again after each start', async () => {
    const { id, cookie } = await openPreview(plain);
    const traffic = load(plain, id, cookie);
    for (let round = 0; round < 4; round++) {
      await sleep(150);
      await plain.emulator.stopSandbox(id);
      await sleep(150);
      await plain.emulator.startSandbox(id);
    }
    await sleep(300);
    await traffic.stop();
    const kinds = new Set(traffic.outcomes);
    // '502 app_not_listening': the sandbox is started but its app is not listening again yet;
    // Daytona's proxy answers a bare 502, which the gateway codes (daytona-answers.ts).
    for (const k of kinds) expect(['200', '503 sandbox_stopped', '503 sandbox_starting', '502 app_not_listening']).toContain(k);
    expect(traffic.outcomes).toContain('503 sandbox_stopped'); // the stops were seen...
    expect(traffic.outcomes.at(-1)).toBe('200'); // ...and the app is back at the end
    // Positive control after the storm: the preview works as it did.
    expect((await plain.requestPreview(id, 3000, '/api/echo', { headers: { cookie } })).status).toBe(200);
  }, 60_000);

  it('with auto-start: a client that retries the coded sandbox_starting loses no request', async () => {
    const { id, cookie } = await openPreview(waking);
    let served = 0;
    let retries = 0;
    for (let round = 0; round < 4; round++) {
      await waking.emulator.stopSandbox(id);
      for (let i = 0; i < 5; i++) {
        // A browser follows the starting page's refresh; a program follows Retry-After.
        for (let attempt = 0; ; attempt++) {
          const res = await waking.requestPreview(id, 3000, `/api/echo?r=${round}&i=${i}`, { headers: { cookie, accept: 'application/json' } });
          if (res.status === 200) break;
          expect(`${res.status} ${res.text.includes('"code"') ? res.json<{ error: { code: string } }>().error.code : `(${res.text || 'empty'})`}`).toBe(
            '503 sandbox_starting',
          );
          expect(attempt).toBeLessThan(100);
          retries++;
          await sleep(50);
        }
        served++;
      }
    }
    expect(served).toBe(20);
    expect(retries).toBeGreaterThan(0); // the sandbox really was stopped each round
  }, 60_000);
});
