/**
 * Sandbox lifecycle seen through the gateway: restarts rotate Daytona's standard token but not
 * the signed links the gateway uses (docs/daytona.md, "Restart"), a revoked signed link is
 * replaced, stopped sandboxes answer 400 "no IP address found", deleted ones 307.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateError } from '../../../protocol/index.js';
import { METRIC } from '../../../broker/core/metrics.js';
import { clientRequest, exposed, principal, startRig, type Rig } from './support.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => rig?.close());

async function settle(p: Promise<Response>): Promise<{ status: number; text: string } | { error: unknown }> {
  try {
    const res = await p;
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { error };
  }
}

describe('restarts and revoked links mid-session', () => {
  async function burst(id: string, round: number) {
    const t = { sandboxId: id, port: 3000 };
    // Concurrent requests, including a small POST (its body kept for one replay) and a larger one.
    return Promise.all([
      settle(rig.upstream.forward(clientRequest(id, '/api/echo?r=' + round), t, principal)),
      settle(rig.upstream.forward(clientRequest(id, '/'), t, principal)),
      settle(rig.upstream.forward(clientRequest(id, '/upload', { method: 'POST', body: 'small body ' + round }), t, principal)),
      settle(rig.upstream.forward(clientRequest(id, '/upload', { method: 'POST', body: new Blob([new Uint8Array(300_000).fill(7)]).stream() }), t, principal)),
    ]);
  }

  it('a restart (new standard token) costs nothing: the signed link keeps working, no refresh, no failed request', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const outcomes: Array<Awaited<ReturnType<typeof settle>>> = [];
    const tokens = new Set<string>();
    const signedBefore = rig.emulator.stats.signedPreviewUrlRequests;
    for (let round = 0; round < 3; round++) {
      tokens.add(rig.emulator.standardToken(id));
      outcomes.push(...(await burst(id, round)));
      await rig.emulator.stopSandbox(id);
      await rig.emulator.startSandbox(id); // new standard token; signed tokens survive (docs/daytona.md, "Restart")
    }
    expect(tokens.size).toBe(3);
    expect(outcomes.filter((o) => 'error' in o || o.status !== 200)).toEqual([]);
    const upload = outcomes[2] as { text: string };
    expect(JSON.parse(upload.text)).toMatchObject({
      bytes: 'small body 0'.length,
      sha256: createHash('sha256').update('small body 0').digest('hex'),
    });
    expect(rig.emulator.stats.signedPreviewUrlRequests - signedBefore).toBe(1);
  });

  it('a revoked signed link is replaced with no failed request: GETs and a small POST are repeated once', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const outcomes: Array<Awaited<ReturnType<typeof settle>>> = [];
    const retriesBefore = rig.metrics.count(METRIC.upstreamRetries, { reason: 'token_rejected' });
    for (let round = 0; round < 3; round++) {
      outcomes.push(...(await burst(id, round)));
      expect(rig.emulator.expireSignedTokens(id)).toBeGreaterThan(0);
      // Refreshes of one port are rate-limited to one per second.
      await new Promise((r) => setTimeout(r, 1_050));
    }
    outcomes.push(...(await burst(id, 3)));
    expect(outcomes.filter((o) => 'error' in o || o.status !== 200)).toEqual([]);
    expect(rig.metrics.count(METRIC.upstreamRetries, { reason: 'token_rejected' }) - retriesBefore).toBeGreaterThan(0);
  });

  it('a large streamed body cannot be replayed after a revocation: 503 with Retry-After, and the next try works', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const t = { sandboxId: id, port: 3000 };
    await (await rig.upstream.forward(clientRequest(id, '/api/echo'), t, principal)).arrayBuffer(); // warm the cache
    rig.emulator.expireSignedTokens(id);
    const big = () => new Blob([new Uint8Array(2 * 1024 * 1024)]);
    const first = await settle(rig.upstream.forward(clientRequest(id, '/upload', { method: 'POST', body: big().stream() }), t, principal));
    expect('error' in first && first.error).toBeInstanceOf(GateError);
    const error = (first as { error: GateError }).error;
    expect(error.code).toBe('daytona_unavailable');
    expect(error.headers['Retry-After']).toBe('1');
    const second = await rig.upstream.forward(clientRequest(id, '/upload', { method: 'POST', body: big().stream() }), t, principal);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { bytes: number }).bytes).toBe(2 * 1024 * 1024);
  });

  it('never forwards the 307 to the identity provider when no fresh link helps', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const t = { sandboxId: id, port: 3000 };
    // A Daytona that keeps handing out a token its proxy refuses.
    const upstream = rig.make({
      daytona: {
        getSandbox: rig.daytona.getSandbox,
        startSandbox: rig.daytona.startSandbox,
        getPreviewLink: async (sandboxId, port) => ({ ...(await rig.daytona.getPreviewLink(sandboxId, port)), token: 'wrong-token' }),
      },
      linkCache: { minRefreshIntervalMs: 0 },
    });
    const outcome = await settle(upstream.forward(clientRequest(id, '/api/echo'), t, principal));
    expect('error' in outcome && (outcome.error as GateError).code).toBe('daytona_unavailable');
  });
});

describe('stopped and missing sandboxes', () => {
  it('maps a stopped sandbox to sandbox_stopped (autoStart off) without leaking the token', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const t = { sandboxId: id, port: 3000 };
    await (await rig.upstream.forward(clientRequest(id, '/api/echo'), t, principal)).arrayBuffer();
    await rig.emulator.stopSandbox(id);
    const outcome = await settle(rig.upstream.forward(clientRequest(id, '/api/echo'), t, principal));
    expect('error' in outcome).toBe(true);
    const error = (outcome as { error: GateError }).error;
    expect(error.code).toBe('sandbox_stopped');
    expect(JSON.stringify(error.toJSON()) + JSON.stringify(error.headers)).not.toContain(rig.emulator.standardToken(id));
  });

  it('autoStart: one start for many requests, 503 sandbox_starting with Retry-After, then the app answers', async () => {
    let starts = 0;
    const upstream = rig.make({
      autoStart: true,
      daytona: {
        getSandbox: rig.daytona.getSandbox,
        getPreviewLink: rig.daytona.getPreviewLink,
        startSandbox: (sandboxId) => {
          starts++;
          return rig.daytona.startSandbox(sandboxId);
        },
      },
    });
    const { id } = await rig.emulator.createSandbox({});
    const t = { sandboxId: id, port: 3000 };
    await (await upstream.forward(clientRequest(id, '/api/echo'), t, principal)).arrayBuffer();
    await rig.emulator.stopSandbox(id);
    const oldToken = rig.emulator.standardToken(id);
    const first = await Promise.all(Array.from({ length: 5 }, () => settle(upstream.forward(clientRequest(id, '/api/echo'), t, principal))));
    for (const o of first) {
      expect('error' in o).toBe(true);
      const e = (o as { error: GateError }).error;
      expect(e.code).toBe('sandbox_starting');
      expect(e.headers['Retry-After']).toBe('1');
    }
    const started = Date.now();
    let res: Awaited<ReturnType<typeof settle>>;
    do {
      await new Promise((r) => setTimeout(r, 100));
      res = await settle(upstream.forward(clientRequest(id, '/api/echo'), t, principal));
    } while ('error' in res && (res.error as GateError).code === 'sandbox_starting' && Date.now() - started < 10_000);
    expect(res).toMatchObject({ status: 200 });
    expect(starts).toBe(1);
    expect(rig.emulator.standardToken(id)).not.toBe(oldToken);
  });

  it('maps a sandbox unknown to Daytona to sandbox_not_found', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const outcome = await settle(rig.upstream.forward(clientRequest(missing, '/'), { sandboxId: missing, port: 3000 }, principal));
    expect((outcome as { error: GateError }).error.code).toBe('sandbox_not_found');
  });
});

describe('the Daytona token never reaches the client', () => {
  it('in no header or body of any answer, error paths included', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const t = { sandboxId: id, port: 3000 };
    const seen: string[] = [];
    // The gateway's own words: answer headers and coded errors. (An app's body may show its own
    // signed host, read from X-Forwarded-Host: that is the app speaking, and it opens that port only.)
    const gatewayWords: string[] = [];
    /** What each step answered: the status of an answer, or the code of a GateError. */
    const outcomes: (number | string)[] = [];
    const tokens = () => rig.emulator.standardToken(id);
    const collect = async (p: Promise<Response>) => {
      try {
        const res = await p;
        outcomes.push(res.status);
        res.headers.forEach((value, name) => gatewayWords.push(`${name}: ${value}`));
        seen.push(await exposed(res));
      } catch (err) {
        outcomes.push(err instanceof GateError ? err.code : String(err));
        const text = JSON.stringify(err instanceof GateError ? { ...err.toJSON(), headers: err.headers } : String(err));
        seen.push(text);
        gatewayWords.push(text);
      }
    };
    const allTokens = new Set<string>();
    allTokens.add(tokens());
    for (const path of ['/api/echo', '/status/500', '/status/404', '/status/401', '/status/307', '/nope', '/']) {
      await collect(rig.upstream.forward(clientRequest(id, path, { headers: { accept: 'application/json' } }), t, principal));
    }
    await collect(rig.upstream.forward(clientRequest(id, '/', {}, 5999), { sandboxId: id, port: 5999 }, principal)); // bare 502
    await rig.emulator.stopSandbox(id);
    await collect(rig.upstream.forward(clientRequest(id, '/'), t, principal)); // stopped
    await rig.emulator.startSandbox(id);
    allTokens.add(tokens());
    await collect(rig.upstream.forward(clientRequest(id, '/api/echo'), t, principal)); // after a restart
    rig.emulator.setApiFault({ status: 500 });
    await collect(rig.upstream.forward(clientRequest(id, '/', {}, 8080), { sandboxId: id, port: 8080 }, principal)); // API down, miss
    rig.emulator.setApiFault(null);
    const signedTokens = rig.emulator.signedTokens(id);
    expect(signedTokens.length).toBeGreaterThan(0);
    // Each path really reached the answer it is meant to probe (an empty 502 everywhere would
    // also contain no token): the app's own statuses pass through, Daytona's become codes.
    expect(outcomes).toEqual([
      200, // /api/echo
      500, // the app's 500, 404, 401 and 307 pass through as the app's
      404,
      401,
      307,
      200, // /nope: the inspector answers every path
      200, // /
      'app_not_listening', // port 5999: nothing listens, Daytona's bare 502 (coded)
      'sandbox_stopped',
      200, // after a restart: the signed link survives it
      'daytona_unavailable', // Daytona's API down and no cached link for port 8080
    ]);
    const all = seen.join('\n');
    for (const token of allTokens) expect(all).not.toContain(token);
    for (const token of signedTokens) expect(gatewayWords.join('\n')).not.toContain(token);
    expect(all).not.toContain(rig.emulator.apiKey);
    expect(all).not.toMatch(/daytona-sandbox-auth|pkce_verifier/);
  });
});
