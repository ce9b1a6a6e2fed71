/**
 * Daytona's bare 502 (the sandbox runs, nothing listens on the port: a dev server not up yet)
 * becomes a coded answer: 502 `app_not_listening` JSON with Retry-After for programs, the
 * waiting page for browsers (it turns into the app by itself: test/e2e/pages-waiting.test.ts).
 * Real parts: the emulator's proxy answers the bare 502 exactly as Daytona does
 * (demo/emulator/decide.ts), through the real SDK, node:http and the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDaytonaError, mayBeDaytonaError } from '../../../broker/core/upstream/daytona-answers.js';
import { startStack, type Stack } from '../../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe("Daytona's bare 502 is told apart from the app's own answers", () => {
  it('an empty 502 without a type is "not listening"', () => {
    expect(mayBeDaytonaError(new Response(null, { status: 502, headers: { 'content-length': '0' } }))).toBe(true);
    expect(classifyDaytonaError(502, '')).toEqual({ kind: 'not_listening' });
  });
  it("positive control: an app's own 502 with a body passes through as the app's", () => {
    expect(mayBeDaytonaError(new Response('upstream of the app is down', { status: 502, headers: { 'content-type': 'text/plain' } }))).toBe(false);
    expect(classifyDaytonaError(502, 'Bad gateway (nginx in the app)')).toEqual({ kind: 'app' });
    expect(classifyDaytonaError(502, JSON.stringify({ statusCode: 502, message: 'x', code: 'RUNNER_UNREACHABLE', timestamp: 't' }))).toEqual({
      kind: 'runner_unreachable',
    });
  });
});

describe('a port with nothing listening, through the gateway', () => {
  it('a program gets a coded 502 app_not_listening JSON with Retry-After, and the app once it listens', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const { cookieHeader } = await stack.launch('ana', id, 3000);
    await stack.emulator.bindPort(id, 3000, null);
    const res = await stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie: cookieHeader, accept: 'application/json' } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('retry-after')).toBe('2');
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('app_not_listening');
    expect(body.error.message).toContain('port 3000');
    // The app starts: the same request reaches it.
    await stack.emulator.bindPort(id, 3000, 'inspector');
    const after = await stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie: cookieHeader, accept: 'application/json' } });
    expect(after.status).toBe(200);
  });

  it('a browser navigation gets the waiting page: the port named, a spinner, Reload, the code in small print, no-JS refresh', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const { cookieHeader } = await stack.launch('ana', id, 3000);
    await stack.emulator.bindPort(id, 3000, null);
    const res = await stack.requestPreview(id, 3000, '/', {
      headers: { cookie: cookieHeader, accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' },
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toContain('data-gate-page="waiting"');
    expect(res.text).toContain('data-gate-code="app_not_listening"');
    expect(res.text).toContain('Waiting for the app on port 3000.');
    expect(res.text).toContain('<noscript><meta http-equiv="refresh"');
    expect(res.text).toContain('Error code: app_not_listening');
  });

  it('without the app being stopped (positive control) the same navigation is the app', async () => {
    const { id } = await stack.emulator.createSandbox({ labels: { 'preview-gate.users': '*' } });
    const { cookieHeader } = await stack.launch('ana', id, 3000);
    const res = await stack.requestPreview(id, 3000, '/api/echo', { headers: { cookie: cookieHeader } });
    expect(res.status).toBe(200);
  });
});
