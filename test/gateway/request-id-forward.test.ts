/**
 * The request id reaches the sandbox app on the forwarded request's own headers
 * (forward-request.ts ForwardView.requestId), never by editing the client's request: on the Node
 * edge that edit made @hono/node-server copy every lazily read header (ops.ts registerRequestId).
 */
import { describe, expect, it } from 'vitest';
import { makeGateway } from './helpers.js';

describe('the request id on the forwarded request', () => {
  it("is set on the forwarded copy, the client's request left as it came", async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const client = new Request(`${t.origin()}/api/echo`, { headers: { 'x-daytona-preview-token': grant.accessToken } });
    const res = await t.gw.fetch(client);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe(id);
    expect(client.headers.get('x-request-id')).toBeNull(); // the shortcut: no edit of the client's headers
  });

  it("a client's well-formed id is forwarded and answered; a forged one is replaced on both", async () => {
    const t = await makeGateway();
    const { grant } = await t.launch();
    const given = await t.preview('/page', { headers: { 'x-daytona-preview-token': grant.accessToken, 'x-request-id': 'trace-7.abc' } });
    expect(given.headers.get('x-request-id')).toBe('trace-7.abc');
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe('trace-7.abc');
    const forged = await t.preview('/page', { headers: { 'x-daytona-preview-token': grant.accessToken, 'x-request-id': 'a b"c' } });
    const replaced = forged.headers.get('x-request-id');
    expect(replaced).not.toBe('a b"c');
    expect(t.upstream.seen.at(-1)!.request.headers.get('x-request-id')).toBe(replaced);
  });
});
