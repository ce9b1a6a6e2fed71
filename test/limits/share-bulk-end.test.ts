/**
 * Sessions opened through a share link are in the per-sandbox session index (limits/limits.ts
 * `claimSession`), so ending a sandbox's sessions (`DELETE /api/previews?sandboxId=S`,
 * broker/core/bulk-end.ts) ends them too (issue 13). Ending a user's sessions (`?userId=U`) does
 * not end the sessions of U's share links: a share is its own grant, ended with
 * `DELETE /api/shares/{id}` (docs/interface.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeGateway, SBX, type TestGateway } from '../gateway/helpers.js';

const SERVICE = 'service-token-0123456789abcdef-0123456789';
let t: TestGateway | undefined;
afterEach(async () => {
  await t?.gw.close();
  t = undefined;
});

/** Creates a share of `sandboxId` as `creator` and opens it: the share session's cookie header. */
async function openShare(creator: string, sandboxId: string): Promise<string> {
  const res = await t!.api('/api/shares', { method: 'POST', user: creator, body: JSON.stringify({ sandboxId, port: 3000, ttlSeconds: 3600 }) });
  expect(res.status).toBe(201);
  const url = new URL(((await res.json()) as { url: string }).url);
  // A browser's navigation exchanges the link for a session (authenticate.ts fromShare).
  const opened = await t!.preview(url.pathname + url.search, { headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } }, sandboxId);
  const cookies = opened.headers.getSetCookie();
  expect(cookies.length, `share opened: ${opened.status}`).toBeGreaterThan(0);
  const cookie = cookies.map((c) => c.split(';', 1)[0]).join('; ');
  expect((await t!.preview('/', { headers: { cookie } }, sandboxId)).status).toBe(200);
  return cookie;
}

const end = (query: string) => t!.api(`/api/previews?${query}`, { method: 'DELETE', headers: { authorization: `Bearer ${SERVICE}` } });

describe('ending a sandbox ends the sessions opened through its share links', () => {
  it("a share-opened session of sandbox S is refused after the bulk end of S; another sandbox's is not", async () => {
    t = await makeGateway({ serviceToken: SERVICE });
    const shared = await openShare('bob', SBX);
    const otherShared = await openShare('bob', 'sbx-other');
    const own = await t.launch('bob', SBX);
    const res = await end(`sandboxId=${SBX}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ended: 2 });
    expect((await t.preview('/', { headers: { cookie: shared } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: own.cookie } })).status).toBe(401);
    // Positive control: the share of another sandbox keeps working.
    expect((await t.preview('/', { headers: { cookie: otherShared } }, 'sbx-other')).status).toBe(200);
    // Ending S again finds nothing left.
    expect(await (await end(`sandboxId=${SBX}`)).json()).toEqual({ ended: 0 });
  });

  it("ending the share's creator by userId leaves share-opened sessions alone (the share is revoked on its own)", async () => {
    t = await makeGateway({ serviceToken: SERVICE });
    const shared = await openShare('bob', SBX);
    const own = await t.launch('bob', SBX);
    expect(await (await end('userId=bob')).json()).toEqual({ ended: 1 });
    expect((await t.preview('/', { headers: { cookie: own.cookie } })).status).toBe(401);
    expect((await t.preview('/', { headers: { cookie: shared } })).status).toBe(200);
    // A share visitor's pseudo-user cannot be named to reach around this rule either.
    expect((await t.api('/api/previews?userId=share:x', { method: 'DELETE', user: 'bob' })).status).toBe(403);
  });
});
