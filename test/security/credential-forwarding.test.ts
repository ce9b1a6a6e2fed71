/**
 * Threat: one of the gateway's credentials reaching the (untrusted) sandbox app in a form the
 * gateway did not look for: a refresh credential, a WebSocket ticket, a launch code or a share
 * token sent as `Authorization: Bearer` on an app path while ANOTHER credential (the access
 * cookie, a header token) authenticated the request. The app here is the emulator's inspector
 * (`/api/echo` answers exactly what reached it).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaunchResult, Stack } from '../support/stack.js';
import { startStack } from '../support/stack.js';
import { shareToken } from './edge-support.js';

let stack: Stack;
let sbx: string;
let l: LaunchResult;

beforeAll(async () => {
  stack = await startStack();
  sbx = stack.sandboxes.open;
  l = await stack.launch('bob', sbx, 3000);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

interface Echo {
  headers: Record<string, string | undefined>;
}

async function echoWith(authorization: string, via: 'cookie' | 'header' = 'cookie'): Promise<{ status: number; authorization: string | undefined }> {
  const credential: Record<string, string> = via === 'cookie' ? { cookie: l.cookieHeader } : { 'x-daytona-preview-token': l.grant.accessToken };
  const r = await stack.requestPreview(sbx, 3000, '/api/echo', { headers: { ...credential, authorization, accept: 'application/json' } });
  return { status: r.status, authorization: r.status === 200 ? r.json<Echo>().headers.authorization : 'not-served' };
}

async function freshTicket(): Promise<string> {
  const r = await stack.requestPreview(sbx, 3000, '/__gate/ws-ticket', { method: 'POST', headers: { cookie: l.cookieHeader } });
  expect(r.status).toBe(200);
  return r.json<{ ticket: string }>().ticket;
}

async function unusedLaunchCode(): Promise<string> {
  const r = await stack.requestGateway('/api/previews', {
    method: 'POST',
    headers: { authorization: `Bearer ${await stack.mintUserSession('bob')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sandboxId: sbx, port: 3000 }),
  });
  expect(r.status).toBe(201);
  return new URLSearchParams(new URL(r.json<{ url: string }>().url).hash.slice(1)).get('code')!;
}

describe("the gateway's credentials never reach the app, whatever their form", () => {
  it('a refresh credential as Authorization: Bearer is stripped when the access cookie authenticated the request', async () => {
    const e = await echoWith(`Bearer ${l.grant.refreshToken}`);
    expect(e).toEqual({ status: 200, authorization: undefined });
  });

  it("the refresh cookie's own value (`l.…`) as a bearer, and a refresh credential beside a header token, are stripped", async () => {
    const refreshCookie = l.cookieHeader
      .split('; ')
      .find((c) => c.startsWith('__Host-pg-refresh='))!
      .split('=')
      .slice(1)
      .join('=');
    expect(await echoWith(`Bearer ${refreshCookie}`)).toEqual({ status: 200, authorization: undefined });
    expect(await echoWith(`Bearer ${l.grant.refreshToken}`, 'header')).toEqual({ status: 200, authorization: undefined });
  });

  it('a WebSocket ticket as a bearer is stripped, and spent: it no longer opens a WebSocket', async () => {
    const ticket = await freshTicket();
    expect(await echoWith(`Bearer ${ticket}`)).toEqual({ status: 200, authorization: undefined });
    const r = await stack
      .requestPreview(sbx, 3000, `/ws?__gate_ticket=${ticket}`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      })
      .catch(() => ({ status: 0 }));
    expect(r.status).toBe(401);
  });

  it('a launch code as a bearer is stripped, and spent: it no longer signs anyone in', async () => {
    const code = await unusedLaunchCode();
    expect(await echoWith(`Bearer ${code}`)).toEqual({ status: 200, authorization: undefined });
    const exchange = await stack.requestPreview(sbx, 3000, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.previewOrigin(sbx, 3000) },
      body: JSON.stringify({ code }),
    });
    expect(exchange.status).toBe(401);
  });

  it('a share token as a bearer is stripped', async () => {
    const share = await shareToken(stack, 'bob', sbx, 3000);
    expect(await echoWith(`Bearer ${share}`)).toEqual({ status: 200, authorization: undefined });
  });

  it("control: the app's own Authorization (of any shape, including a random 256-bit bearer) reaches it unchanged", async () => {
    const own = randomBytes(32).toString('base64url');
    expect(own).toHaveLength(43);
    for (const authorization of [`Bearer ${own}`, 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Bearer app.jwt.like']) {
      expect(await echoWith(authorization)).toEqual({ status: 200, authorization });
    }
  });
});
