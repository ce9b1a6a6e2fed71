/**
 * Login CSRF through launch links, in Chromium: a launch URL made by one user (the attacker)
 * and opened in someone else's browser signs nobody in, neither at top level nor inside the
 * attacker's page; the embed on the page that made the link, and a person confirming a new
 * tab, still sign in. The HTTP-level rules are in test/limits/launch-binding.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { APP_PORT, startBrowserStack, type BrowserStack } from './browser-stack.js';

/** The attacker's site: frames whatever URL it is given. */
function startAttackerSite(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('frame') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    // The attacker strips the referrer, so a browser without ancestorOrigins has no proof either.
    res.end(
      `<!doctype html><title>win a prize</title><iframe id="f" referrerpolicy="no-referrer" src="${target.replace(/"/g, '&quot;')}" width="600" height="400"></iframe>`,
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.2', () => resolve({ server, origin: `http://127.0.0.2:${(server.address() as AddressInfo).port}` })),
  );
}

let stack: BrowserStack;
let browser: Browser;
let attacker: Awaited<ReturnType<typeof startAttackerSite>>;

beforeAll(async () => {
  attacker = await startAttackerSite();
  // The attacker's site is even an allowed embedder (frame-ancestors): the binding must hold on its own.
  [stack, browser] = await Promise.all([startBrowserStack({ extraOrigins: [attacker.origin] }), launchChromium()]);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  attacker?.server.close();
});

async function withVictim<T>(fn: (context: BrowserContext, page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await fn(context, await context.newPage());
  } finally {
    await context.close();
  }
}

async function gateCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies(stack.previewOrigin)).map((c) => c.name).filter((n) => n.startsWith('__Host-pg-'));
}

/** The attacker's launch link: minted with the attacker's own session, optionally posing as the real host page. */
async function attackerLaunch(asHostPage: boolean): Promise<string> {
  const res = await fetch(`${stack.gateway.url}/api/previews`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await stack.sessionToken('mallory')}`,
      'content-type': 'application/json',
      ...(asHostPage ? { origin: stack.host.origin } : {}),
    },
    body: JSON.stringify({ sandboxId: stack.sandboxId, port: APP_PORT }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

describe('login CSRF through launch links', () => {
  it("the attacker's launch URL opened at top level in the victim's browser does not sign in (it asks, naming the attacker); Continue is the positive control", async () => {
    await withVictim(async (context, page) => {
      for (const asHostPage of [false, true]) {
        await page.goto(await attackerLaunch(asHostPage));
        const ask = page.locator('#pg-continue');
        await ask.waitFor({ timeout: 20_000 });
        expect(await page.locator('body').innerText()).toContain('"mallory"');
        expect(await gateCookies(context)).toEqual([]);
      }
      // The person who really opened it (here: clicking) gets in: the confirmation is the only gate.
      await page.locator('#pg-continue').click();
      await page.waitForURL(`${stack.previewOrigin}/`, { timeout: 20_000 });
      expect(await gateCookies(context)).toContain('__Host-pg-refresh');
    });
  });

  it("the attacker's launch URL inside the attacker's page does not sign in, whoever it claims to be for", async () => {
    await withVictim(async (context, page) => {
      for (const asHostPage of [false, true]) {
        await page.goto(`${attacker.origin}/?frame=${encodeURIComponent(await attackerLaunch(asHostPage))}`);
        const frame = page.frameLocator('#f');
        await frame.locator('body[data-gate-code="launch_context_mismatch"]').waitFor({ timeout: 20_000 });
        expect(await frame.locator('#pg-continue').count()).toBe(0);
        expect(await gateCookies(context)).toEqual([]);
      }
    });
  });

  it('the legitimate embed on the host page that minted the link still signs in', async () => {
    await withVictim(async (context, page) => {
      await page.goto(stack.host.url);
      await page.waitForSelector('body[data-preview-state="ready"]', { timeout: 30_000 });
      expect(await gateCookies(context)).toContain('__Host-pg-refresh');
    });
  });
});
