/**
 * `/readyz` (broker/core/readiness.ts) through `startGateway` over real sockets against the
 * emulator: ready, Daytona API unreachable, store unreachable, draining; and the probes stay
 * cheap (cached) however often a load balancer asks. `/healthz` stays liveness throughout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import { createMemoryStore } from '../../broker/core/store/memory.js';
import type { Store } from '../../broker/core/store/store.js';
import { rawRequest } from '../support/stack.js';

const silent = { info() {}, warn() {}, error() {} };
let emulator: Emulator;
let gw: RunningGateway | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => emulator?.close());
afterEach(async () => {
  emulator.setApiFault(null);
  await gw?.close();
  gw = undefined;
});

function start(opts: { store?: Store } = {}) {
  return startGateway({
    config: { userJwtSecret: 'x'.repeat(40) },
    daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' },
    port: 0,
    logger: silent,
    ...opts,
  });
}

const get = (g: RunningGateway, path: string) => rawRequest(g.port, `127.0.0.1:${g.port}`, path);

describe('/readyz', () => {
  it('is 200 with each check while the Daytona API answers, and asks it at most once per cache period', async () => {
    gw = await start();
    emulator.stats.apiRequests = 0;
    for (let i = 0; i < 20; i++) {
      const res = await get(gw, '/readyz');
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { store: 'ok', daytona: 'ok' } });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect(emulator.stats.apiRequests).toBe(1);
  });

  it('is 503 with the reason when the Daytona API is unreachable; /healthz stays 200', async () => {
    gw = await start();
    emulator.setApiFault('refuse');
    const res = await get(gw, '/readyz');
    expect(res.status).toBe(503);
    const body = res.json<{ status: string; reason: string; checks: Record<string, string> }>();
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(/^daytona: /);
    expect(body.checks.daytona).not.toBe('ok');
    expect(res.text).not.toContain(emulator.apiKey);
    expect(res.text).not.toContain(String(emulator.port));
    expect((await get(gw, '/healthz')).status).toBe(200);
  });

  it('is 503 when the store says it is unreachable (a store with ping, as Redis), 200 when it answers', async () => {
    let up = true;
    const store: Store = Object.assign(createMemoryStore(), {
      ping: async () => {
        if (!up) throw Object.assign(new Error('connection refused redis://secret@host'), { code: 'store_unavailable' });
      },
    });
    gw = await startGateway({
      config: { userJwtSecret: 'x'.repeat(40) },
      daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' },
      port: 0,
      logger: silent,
      store,
    });
    expect((await get(gw, '/readyz')).json()).toEqual({ status: 'ready', checks: { store: 'ok', daytona: 'ok' } });
    await gw.close();
    up = false;
    gw = await startGateway({
      config: { userJwtSecret: 'x'.repeat(40) },
      daytonaApi: { apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' },
      port: 0,
      logger: silent,
      store,
    });
    const res = await get(gw, '/readyz');
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', reason: 'store: store_unavailable', checks: { store: 'store_unavailable', daytona: 'ok' } });
    expect(res.text).not.toContain('secret');
  });

  it('drain() turns it 503 "draining" at once, before any connection closes, and resolves with nothing cut', async () => {
    gw = await start();
    expect((await get(gw, '/readyz')).status).toBe(200);
    gw.app.readiness.startDraining(); // what drain() does first
    const res = await get(gw, '/readyz');
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ status: 'draining' });
    expect(await gw.drain({ timeoutMs: 5_000 })).toMatchObject({ forced: 0 });
    await expect(get(gw, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
