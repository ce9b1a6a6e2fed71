/**
 * Threat: a flood of made-up sandbox ids from ONE client turning into Daytona API calls and
 * starving everyone else's public-sandbox lookups. Each client address gets its own share
 * (PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND) on every entry point (plain requests, /__gate/*,
 * WebSocket handshakes), measured here through the Node edge with real sockets from two
 * loopback addresses. The gateway's clock is frozen, so the one-second window never turns over
 * during the test, however slow the machine.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND } from '../../broker/core/public-lookups.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
const frozen = Date.now();
let n = 0;
const madeUp = () => `made-up-${process.pid}-${n++}`;

beforeAll(async () => {
  stack = await startStack({ clock: () => frozen });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** A request from `localAddress` (127.0.0.1 or 127.0.0.2) for sandbox `id`; answers status and error code. */
function ask(localAddress: string, id: string, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; code: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: stack.gateway.port,
        localAddress,
        path,
        agent: false,
        headers: { host: stack.previewHost(id, 3000), accept: 'application/json', ...headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          let code = '';
          try {
            const j = JSON.parse(body) as { error?: { code: string }; code?: string };
            code = j.error?.code ?? j.code ?? '';
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, code, body });
        });
      },
    );
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, code: '', body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

const wsHeaders = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

describe('per-client budget of public-sandbox lookups, through the Node edge', () => {
  it("one client's flood of made-up ids is refused (503 daytona_unavailable) past its share, on every entry point, while another client still gets answers", async () => {
    const A = '127.0.0.1';
    const B = '127.0.0.2';
    // A spends its share: a mix of plain requests, WebSocket handshakes and /__gate/status.
    const spent: string[] = [];
    for (let i = 0; i < PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND; i++) {
      const r = i % 3 === 0 ? await ask(A, madeUp()) : i % 3 === 1 ? await ask(A, madeUp(), '/ws', wsHeaders) : await ask(A, madeUp(), '/__gate/status');
      spent.push(r.code || String(r.status));
    }
    // Each was a real lookup: "private or unknown" answered as missing_credential (401), never over budget.
    expect(spent.every((c) => c === 'missing_credential' || c === '401')).toBe(true);
    // Past its share, A is refused on every entry point...
    expect((await ask(A, madeUp())).code).toBe('daytona_unavailable');
    expect((await ask(A, madeUp(), '/ws', wsHeaders)).status).toBe(503);
    expect((await ask(A, madeUp(), '/__gate/status')).code).toBe('daytona_unavailable');
    // ...while B still gets real answers, on every entry point.
    expect((await ask(B, madeUp())).code).toBe('missing_credential');
    expect((await ask(B, madeUp(), '/ws', wsHeaders)).status).toBe(401);
    expect((await ask(B, madeUp(), '/__gate/status')).code).toBe('missing_credential');
  });

  it('control: ids already looked up are answered from the cache, even for a client past its share', async () => {
    const C = '127.0.0.3';
    const ids = Array.from({ length: PUBLIC_LOOKUPS_PER_CLIENT_PER_SECOND }, madeUp);
    for (const id of ids) expect((await ask(C, id)).code).toBe('missing_credential');
    expect((await ask(C, madeUp())).code).toBe('daytona_unavailable');
    for (const id of ids) expect((await ask(C, id)).code).toBe('missing_credential');
  });
});
