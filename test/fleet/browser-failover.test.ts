/**
 * One instance of two dies (SIGKILL) in the middle of a browser session in Chromium: the
 * balancer sends new connections to the survivor, which knows the session through Redis, so
 * the page sees no failed request and its WebSocket reconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { redisAvailable } from '../support/redis.js';
import { mintUserSession, previewOrigin } from './support/client.js';
import { startFleet, type Fleet } from './support/fleet.js';

const APP = 3000;
let fleet: Fleet;
let browser: Browser;

beforeAll(async () => {
  fleet = await startFleet(2);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await fleet?.close();
}, 60_000);

interface PageStats {
  ok: number;
  failed: number;
  errors: string[];
  wsOpens: number;
  wsCloses: number[];
  echoes: number;
  echoesAtOpen: number[];
}

describe.skipIf(!redisAvailable())('an instance killed mid-session', () => {
  it('the page sees zero failed requests and its WebSocket reconnects to the survivor', async () => {
    const session = await mintUserSession(fleet.userSecret, 'bob');
    // Opened as the host app would open it: bound to the host page, navigated from it.
    const hostOrigin = 'http://ide.example.test';
    const { url } = await fleet.viaBalancer().createPreview(session, fleet.sandboxId, APP, hostOrigin);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url, { referer: `${hostOrigin}/` });
    const origin = previewOrigin(fleet.sandboxId, APP, fleet.lb.port);
    await page.waitForURL((u) => u.origin === origin && !u.pathname.startsWith('/__gate/'), { timeout: 30_000 });

    // The app: four request loops (so the browser holds several connections, spread over both
    // instances by the balancer), and a WebSocket that reconnects when closed, echoing.
    await page.evaluate(() => {
      const s = { ok: 0, failed: 0, errors: [] as string[], wsOpens: 0, wsCloses: [] as number[], echoes: 0, echoesAtOpen: [] as number[] };
      (window as unknown as { __fleet: typeof s }).__fleet = s;
      const loop = async () => {
        for (;;) {
          try {
            const res = await fetch('/api/echo', { headers: { accept: 'application/json' } });
            if (res.ok) s.ok++;
            else {
              s.failed++;
              s.errors.push(`HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
            }
          } catch (e) {
            s.failed++;
            s.errors.push(String(e));
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      for (let i = 0; i < 4; i++) void loop();
      const connect = () => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        let tick: ReturnType<typeof setInterval> | undefined;
        ws.onopen = () => {
          s.wsOpens++;
          s.echoesAtOpen.push(s.echoes);
          tick = setInterval(() => ws.send('ping'), 100);
        };
        ws.onmessage = () => s.echoes++;
        ws.onclose = (e) => {
          clearInterval(tick);
          s.wsCloses.push(e.code);
          setTimeout(connect, 200);
        };
      };
      connect();
    });
    const stats = () => page.evaluate(() => (window as unknown as { __fleet: PageStats }).__fleet);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const s = await stats();
      if (s.ok >= 20 && s.echoes >= 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await stats();
    expect(before.ok).toBeGreaterThanOrEqual(20);
    expect(before.wsOpens).toBe(1);

    // Kill the instance holding the page's WebSocket (the balancer knows the route).
    const wsRoute = fleet.lb.live().find((r) => r.firstLine.startsWith('GET /ws'));
    expect(wsRoute).toBeDefined();
    const victim = wsRoute!.backend;
    const survivor = 1 - victim;
    const survivorBefore = fleet.lb.connections[survivor]!;
    // Page requests were in flight on the victim too, not only the WebSocket.
    expect(fleet.lb.live().filter((r) => r.backend === victim && !r.firstLine.startsWith('GET /ws')).length).toBeGreaterThan(0);
    fleet.gateways[victim]!.child.kill('SIGKILL');
    await fleet.gateways[victim]!.exited;

    // Keep the page busy on the survivor for a while.
    const okAtKill = (await stats()).ok;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const s = await stats();
      if (s.wsOpens >= 2 && s.echoes > s.echoesAtOpen[1]! + 5 && s.ok >= okAtKill + 40) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await stats();
    console.log(
      `[fleet] SIGKILL mid-session: ${after.ok - okAtKill} page requests after the kill, ${after.failed} failed; WebSocket closes ${JSON.stringify(after.wsCloses)}, opens ${after.wsOpens}`,
    );
    expect(after.errors).toEqual([]);
    expect(after.failed).toBe(0);
    expect(after.ok).toBeGreaterThanOrEqual(okAtKill + 40);
    expect(after.wsOpens).toBeGreaterThanOrEqual(2); // reconnected
    expect(after.echoes).toBeGreaterThan(after.echoesAtOpen[1]! + 5); // and talking again
    expect(fleet.lb.connections[survivor]!).toBeGreaterThan(survivorBefore);
    expect(fleet.lb.live().every((r) => r.backend === survivor)).toBe(true);
    expect(fleet.lb.failed).toBe(0);
    await context.close();
  }, 120_000);
});
