/**
 * Login CSRF through launch links, at the HTTP level (the browser half is
 * test/e2e/login-csrf.test.ts): a launch is bound to the page that asked for it, and the code
 * exchange refuses a frame whose parent is another page, and asks a tab of its own to confirm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackResponse } from '../support/stack.js';
import { GATE_PATHS } from '../../protocol/index.js';

const IDE = 'https://ide.example.com';
const ATTACKER = 'https://attacker.example';

describe('launch links are bound to the page that asked for them', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(() => stack?.close());

  async function mint(user: string, opts: { origin?: string; hostOrigin?: string } = {}): Promise<string> {
    const res = await stack.requestGateway('/api/previews', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await stack.mintUserSession(user)}`,
        ...(opts.origin ? { origin: opts.origin } : {}),
      },
      body: JSON.stringify({ sandboxId: stack.sandboxes.open, port: 3000, ...(opts.hostOrigin ? { hostOrigin: opts.hostOrigin } : {}) }),
    });
    expect(res.status).toBe(201);
    return new URLSearchParams(new URL(res.json<{ url: string }>().url).hash.slice(1)).get('code')!;
  }
  /** The bootstrap's POST as a browser sends it (Fetch Metadata, its own Origin, the page's context). */
  function exchange(code: string, context: Record<string, unknown> | null, extra: Record<string, unknown> = {}): Promise<StackResponse> {
    const origin = stack.previewOrigin(stack.sandboxes.open, 3000);
    return stack.requestPreview(stack.sandboxes.open, 3000, GATE_PATHS.session, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' },
      body: JSON.stringify({ code, ...(context ? { context } : {}), ...extra }),
    });
  }
  const errorOf = (r: StackResponse) => r.json<{ error: { code: string; message: string } }>().error;

  it("an attacker's launch link framed by the attacker's page is refused, and sets no cookie", async () => {
    const unbound = await mint('mallory');
    const r1 = await exchange(unbound, { framed: true, ancestorOrigins: [ATTACKER], referrer: `${ATTACKER}/` });
    expect(r1.status).toBe(403);
    expect(errorOf(r1).code).toBe('launch_context_mismatch');
    expect(r1.setCookies).toEqual([]);
    // Bound to the real IDE (the attacker called the API with Origin: IDE), framed elsewhere.
    const bound = await mint('mallory', { origin: IDE });
    const r2 = await exchange(bound, { framed: true, ancestorOrigins: [ATTACKER], referrer: '' });
    expect(errorOf(r2).code).toBe('launch_context_mismatch');
    // No ancestorOrigins (Firefox) and the referrer stripped by the framing page: no proof, refused.
    const bound2 = await mint('mallory', { origin: IDE });
    const r3 = await exchange(bound2, { framed: true, referrer: '' });
    expect(errorOf(r3).code).toBe('launch_context_mismatch');
    // A confirmation click is not accepted inside a frame (clickjacking).
    const bound3 = await mint('mallory', { origin: IDE });
    expect(errorOf(await exchange(bound3, { framed: true, ancestorOrigins: [ATTACKER] }, { confirmed: true })).code).toBe('launch_context_mismatch');
  });

  it('the embed framed by the page that minted the link signs in (ancestorOrigins, or the referrer where the browser has no ancestorOrigins)', async () => {
    const viaOrigin = await mint('alice-ide', { origin: IDE });
    const ok1 = await exchange(viaOrigin, { framed: true, ancestorOrigins: [IDE], referrer: `${IDE}/` });
    expect(ok1.status).toBe(200);
    expect(ok1.setCookies.some((c) => c.startsWith('__Host-pg-refresh='))).toBe(true);
    const viaBackend = await mint('alice-ide', { hostOrigin: IDE });
    expect((await exchange(viaBackend, { framed: true, referrer: `${IDE}/` })).status).toBe(200);
  });

  it('a launch link opened in a tab that cannot be tied to its maker asks to confirm, naming user and sandbox; the code survives for the confirmed retry', async () => {
    const code = await mint('mallory');
    const asked = await exchange(code, { framed: false, referrer: `${ATTACKER}/` });
    expect(asked.status).toBe(409);
    expect(errorOf(asked).code).toBe('confirmation_required');
    expect(errorOf(asked).message).toContain('"mallory"');
    expect(errorOf(asked).message).toContain(stack.sandboxes.open);
    expect(asked.setCookies).toEqual([]);
    const confirmed = await exchange(code, { framed: false, referrer: '' }, { confirmed: true });
    expect(confirmed.status).toBe(200);
    // Used once: a second confirmed exchange of the same code fails.
    expect(errorOf(await exchange(code, { framed: false }, { confirmed: true })).code).toBe('invalid_code');
    // A browser request without the page's context (a page of the origin posting by itself) is a tab too.
    expect(errorOf(await exchange(await mint('mallory'), null)).code).toBe('confirmation_required');
  });

  it('a new tab opened from the page that minted the link signs in without asking', async () => {
    const code = await mint('alice-tab', { origin: IDE });
    expect((await exchange(code, { framed: false, referrer: `${IDE}/` })).status).toBe(200);
  });

  it('a program exchanging its own code (no browser context, no Fetch Metadata) is served as before', async () => {
    const l = await stack.launch('program', stack.sandboxes.open, 3000);
    expect(l.grant.accessToken).toBeTruthy();
  });

  it('a malformed hostOrigin is refused with bad_request', async () => {
    const res = await stack.requestGateway('/api/previews', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await stack.mintUserSession('x')}` },
      body: JSON.stringify({ sandboxId: stack.sandboxes.open, port: 3000, hostOrigin: 'https://ide.example.com/path' }),
    });
    expect(res.status).toBe(400);
  });
});
