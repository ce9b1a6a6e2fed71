/**
 * The gateway for what Daytona really answers (docs/daytona.md, "States", "Caching",
 * "Forwarding"): archived (runner-less) and paused sandboxes are stopped ones to the user, never
 * Daytona's JSON passed off as the app's answer; a proxy 404 is confirmed with the API before
 * `sandbox_not_found`; and GATE_ACTIVITY_UPDATES decides which traffic keeps a sandbox awake,
 * read on the emulator's activity clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GateError, parsePreviewLabel } from '../../../protocol/index.js';
import type { GateUpstream } from '../../../broker/core/upstream/index.js';
import { relayWebSocketWithRetry } from '../../../broker/node/ws/relay.js';
import type { RelayOptions } from '../../../broker/node/ws/relay-options.js';
import { clientRequest, principal, startRig, type Rig } from './support.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({}, { activityIntervalMs: 100 });
});
afterAll(async () => rig?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outcome(
  upstream: GateUpstream,
  id: string,
  path = '/api/echo',
  init: RequestInit = {},
): Promise<{ status: number; text: string } | { error: GateError }> {
  try {
    const res = await upstream.forward(clientRequest(id, path, init), { sandboxId: id, port: 3000 }, principal);
    return { status: res.status, text: await res.text() };
  } catch (error) {
    if (!(error instanceof GateError)) throw error;
    return { error };
  }
}
const codeOf = (o: Awaited<ReturnType<typeof outcome>>) => ('error' in o ? o.error.code : `status ${o.status}`);

async function eventually(upstream: GateUpstream, id: string): Promise<{ status: number; text: string }> {
  for (let i = 0; i < 200; i++) {
    const o = await outcome(upstream, id);
    if (!('error' in o)) return o;
    expect(o.error.code).toBe('sandbox_starting');
    await sleep(50);
  }
  throw new Error('the sandbox never answered');
}

describe('archived and paused sandboxes are stopped ones', () => {
  it('archived (Daytona: 400 "failed to get runner info … does not have a runner") → sandbox_stopped, never Daytona\'s JSON', async () => {
    const { id } = await rig.emulator.createSandbox({});
    expect(codeOf(await outcome(rig.upstream, id))).toBe('status 200'); // positive control
    await rig.emulator.archiveSandbox(id);
    for (const path of ['/api/echo', '/assets/app.js']) {
      const o = await outcome(rig.upstream, id, path);
      expect(codeOf(o)).toBe('sandbox_stopped');
    }
  });

  it('archived with autoStart: sandbox_starting meanwhile, then the app answers', async () => {
    const upstream = rig.make({ autoStart: true });
    const { id } = await rig.emulator.createSandbox({});
    await rig.emulator.archiveSandbox(id);
    expect(codeOf(await outcome(upstream, id))).toBe('sandbox_starting');
    const answered = await eventually(upstream, id);
    expect(answered.status).toBe(200);
    expect((await rig.daytona.getSandbox(id))?.state).toBe('started');
  });

  it('paused → sandbox_stopped; with autoStart it resumes (same standard token) and the app answers', async () => {
    const { id } = await rig.emulator.createSandbox({});
    await rig.emulator.pauseSandbox(id);
    expect(codeOf(await outcome(rig.upstream, id))).toBe('sandbox_stopped');
    const token = rig.emulator.standardToken(id);
    const upstream = rig.make({ autoStart: true });
    expect(codeOf(await outcome(upstream, id))).toBe('sandbox_starting');
    expect((await eventually(upstream, id)).status).toBe(200);
    expect(rig.emulator.standardToken(id)).toBe(token);
  });
});

describe("Daytona's 404 is confirmed with the API", () => {
  it('a sandbox moving between runners (404 for a moment) is a transient upstream_unavailable; its link is kept and it answers after', async () => {
    const { id } = await rig.emulator.createSandbox({});
    expect(codeOf(await outcome(rig.upstream, id))).toBe('status 200');
    const signedBefore = rig.emulator.stats.signedPreviewUrlRequests;
    rig.emulator.moveRunner(id, 400);
    const o = await outcome(rig.upstream, id);
    expect(codeOf(o)).toBe('upstream_unavailable');
    expect((o as { error: GateError }).error.headers['Retry-After']).toBe('1');
    await sleep(450);
    expect(codeOf(await outcome(rig.upstream, id))).toBe('status 200');
    expect(rig.emulator.stats.signedPreviewUrlRequests).toBe(signedBefore); // the link was not dropped
  });

  it('a 404 the API confirms (sandbox gone) is sandbox_not_found, and the links of that sandbox are dropped', async () => {
    const { id } = await rig.emulator.createSandbox({});
    const upstream = rig.make({ daytona: { ...rig.daytona, getSandbox: async () => null, getSignedPreviewLink: rig.daytona.getSignedPreviewLink } });
    expect(codeOf(await outcome(upstream, id))).toBe('status 200');
    expect(upstream.links.size).toBe(1);
    rig.emulator.moveRunner(id, 60_000);
    expect(codeOf(await outcome(upstream, id))).toBe('sandbox_not_found');
    expect(upstream.links.size).toBe(0);
    rig.emulator.moveRunner(id, 0);
  });
});

/**
 * A stand-in for the gateway's Node edge on WebSocket upgrades: relays to the upstream side
 * `upstreamOf()` names at the time of each upgrade, with the relay options given.
 */
async function startRelay(upstreamOf: () => GateUpstream, options: (sandboxId: string) => RelayOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const target = parsePreviewLabel((req.headers.host ?? '').split('.')[0] ?? '');
    if (!target) return void socket.destroy();
    const upstream = upstreamOf();
    void relayWebSocketWithRetry(req, socket, head, (fresh) => upstream.webSocketTarget(target, req.url ?? '/', { fresh }), options(target.sandboxId));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe("Daytona's 404 on a WebSocket upgrade is confirmed with the API too", () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let current: GateUpstream;
  beforeAll(async () => {
    relay = await startRelay(
      () => current,
      (sandboxId) => ({ onGone: () => current.confirmGone(sandboxId) }),
    );
  });
  afterAll(async () => relay?.close());

  /** 'open', or the refused handshake's status and error code. */
  function handshake(id: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws`, { headers: { host: `3000-${id}.preview.localhost:8787` } });
      ws.once('open', () => {
        ws.close();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve(`${res.statusCode} ${(JSON.parse(body) as { error: { code: string } }).error.code}`));
      });
      ws.once('error', reject);
    });
  }

  it('moving between runners: a transient 502-class refusal, not sandbox_not_found; the socket opens after', async () => {
    current = rig.upstream;
    const { id } = await rig.emulator.createSandbox({});
    expect(await handshake(id)).toBe('open'); // positive control
    rig.emulator.moveRunner(id, 400);
    expect(await handshake(id)).toBe('502 upstream_unavailable');
    await sleep(450);
    expect(await handshake(id)).toBe('open');
  });

  it('gone according to the API: sandbox_not_found', async () => {
    current = rig.make({ daytona: { ...rig.daytona, getSandbox: async () => null, getSignedPreviewLink: rig.daytona.getSignedPreviewLink } });
    const { id } = await rig.emulator.createSandbox({});
    expect(await handshake(id)).toBe('open');
    rig.emulator.moveRunner(id, 60_000);
    expect(await handshake(id)).toBe('404 sandbox_not_found');
    rig.emulator.moveRunner(id, 0);
  });
});

describe('GATE_ACTIVITY_UPDATES on the activity clock', () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let current: GateUpstream;
  beforeAll(async () => {
    relay = await startRelay(
      () => current,
      () => ({}),
    );
  });
  afterAll(async () => relay?.close());

  /** Activity refreshes caused by one plain GET, one WebSocket held 700 ms, one SSE stream held 700 ms. */
  async function measure(mode: 'all' | 'requests' | 'never') {
    current = rig.make({ activityUpdates: mode });
    const { id } = await rig.emulator.createSandbox({});
    const clock = () => rig.emulator.activityUpdates(id);
    let before = clock();
    expect(codeOf(await outcome(current, id))).toBe('status 200');
    const request = clock() - before;

    before = clock();
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws`, { headers: { host: `3000-${id}.preview.localhost:8787` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await sleep(700);
    ws.close();
    const socket = clock() - before;

    before = clock();
    const abort = new AbortController();
    const res = await current.forward(
      clientRequest(id, '/events', { headers: { accept: 'text/event-stream' }, signal: abort.signal }),
      { sandboxId: id, port: 3000 },
      principal,
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const until = Date.now() + 700;
    while (Date.now() < until) await reader.read();
    abort.abort();
    await reader.cancel().catch(() => {});
    const stream = clock() - before;
    return { request, socket, stream };
  }

  it('all: every request and every open connection (every interval) refreshes it', async () => {
    const m = await measure('all');
    // ≥ 1: on a loaded machine the GET itself may outlive one 100 ms interval.
    expect(m.request).toBeGreaterThanOrEqual(1);
    expect(m.socket).toBeGreaterThanOrEqual(3);
    expect(m.stream).toBeGreaterThanOrEqual(3);
  });

  it('requests (the default): plain requests refresh it; WebSockets and event streams do not', async () => {
    const m = await measure('requests');
    expect(m.request).toBeGreaterThanOrEqual(1);
    expect({ socket: m.socket, stream: m.stream }).toEqual({ socket: 0, stream: 0 });
  });

  it('never: nothing through the gateway refreshes it', async () => {
    expect(await measure('never')).toEqual({ request: 0, socket: 0, stream: 0 });
  });

  it('an unknown mode is refused at construction', () => {
    expect(() => rig.make({ activityUpdates: 'sometimes' as never })).toThrow(/activityUpdates/);
  });
});
