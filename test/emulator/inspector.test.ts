/**
 * The INSPECTOR sample app: its HTTP routes (through the proxy, with the token header), and
 * its DOM contract in a real Chromium: every check ends `ok` when the page is reached through
 * the emulated proxy (warning interstitial accepted by clicking, signed URL in the address).
 */
import { inflateSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../demo/emulator/index.js';
import { launchChromium } from '../support/chromium.js';
import { proxyRequest } from './proxy-request.js';

let emu: Emulator;
let id: string;
let url: string;
const auth = () => ({ 'x-daytona-preview-token': emu.standardToken(id) });

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  ({ id } = await emu.createSandbox());
  url = emu.previewUrl(id, 3000);
});
afterAll(() => emu.close());

describe('routes', () => {
  it('GET / is an HTML page listing what the document request carried', async () => {
    const res = await proxyRequest(url, '/?q=1', { headers: { ...auth(), cookie: 'theme=dark', 'x-probe': 'yes' } });
    expect(res.status).toBe(200);
    const html = res.text();
    expect(html).toContain('<td id="req-method">GET</td>');
    expect(html).toContain('<td id="req-path">/</td>');
    expect(html).toMatch(/<th>x-probe<\/th><td>yes<\/td>/);
    expect(html).toMatch(/<th>theme<\/th><td>dark<\/td>/);
    expect(html).toMatch(/<th>q<\/th><td>1<\/td>/);
    for (const sub of ['/app.js', '/style.css']) expect(html).toContain(`"${sub}"`);
  });

  it('/image.png is a real 2×2 PNG; /app.js and /style.css are served with their types', async () => {
    const png = await proxyRequest(url, '/image.png', { headers: auth() });
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.body.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect([png.body.readUInt32BE(16), png.body.readUInt32BE(20)]).toEqual([2, 2]);
    const idatLength = png.body.readUInt32BE(33);
    expect(inflateSync(png.body.subarray(41, 41 + idatLength)).length).toBe(14);
    expect((await proxyRequest(url, '/app.js', { headers: auth() })).headers['content-type']).toContain('javascript');
    expect((await proxyRequest(url, '/style.css', { headers: auth() })).text()).toContain('#style-probe');
  });

  it('unknown paths answer echo JSON to JSON clients and 404 to others; /status/{code} and /slow behave', async () => {
    const json = await proxyRequest(url, '/anything/else?x=1', { method: 'PUT', headers: { ...auth(), accept: 'application/json' }, body: 'abc' });
    expect(json.json()).toMatchObject({ method: 'PUT', path: '/anything/else', query: { x: '1' }, bodySize: 3 });
    expect((await proxyRequest(url, '/anything/else', { headers: auth() })).status).toBe(404);
    expect((await proxyRequest(url, '/status/204', { headers: auth() })).status).toBe(204);
    expect((await proxyRequest(url, '/status/418', { headers: auth() })).status).toBe(418);
    const t0 = Date.now();
    expect((await proxyRequest(url, '/slow?ms=250', { headers: auth() })).json()).toEqual({ waitedMs: 250 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });
});

describe('in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('through a signed URL and the accepted warning page, every inspector check is ok', async () => {
    const signed = await (
      await fetch(`${emu.apiUrl}/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=300`, { headers: { authorization: `Bearer ${emu.apiKey}` } })
    ).json();
    // Daytona warns the browsers it names; headless Chromium is not one, so present a desktop Chrome.
    const page = await browser.newPage({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36' });
    try {
      await page.goto(`${signed.url}/?from=browser`);
      // Daytona's interstitial comes first for a browser; continuing lands on the requested page.
      await page.click('#daytona-preview-warning button');
      await page.waitForSelector('html[data-inspector-done="true"]', { timeout: 20_000 });
      const state = await page.evaluate(
        () => (window as unknown as { __inspector: { results: Record<string, string>; request: { query: Record<string, string> } } }).__inspector,
      );
      expect(state.results).toEqual({ script: 'ok', style: 'ok', image: 'ok', fetch: 'ok', post: 'ok', ws: 'ok', sse: 'ok', download: 'ok' });
      expect(state.request.query).toEqual({ from: 'browser' });
      expect(await page.getAttribute('html', 'data-check-ws')).toBe('ok');
      expect(page.url()).toBe(`${signed.url}/?from=browser`);
    } finally {
      await page.close();
    }
  });

  it('a check that cannot pass is reported as fail:<why>, and the page still finishes', async () => {
    // Port 8080 reached by its standard token in the query: the document loads, its
    // subresources carry no credential and get Daytona's 307, so checks fail visibly.
    const page = await browser.newPage({ extraHTTPHeaders: { 'x-daytona-skip-preview-warning': 'true' } });
    try {
      await page.goto(`${emu.previewUrl(id, 8080)}/?DAYTONA_SANDBOX_AUTH_KEY=${emu.standardToken(id)}`);
      await page.waitForSelector('html[data-inspector-done="true"]', { timeout: 20_000 });
      const results = await page.evaluate(() => (window as unknown as { __inspector: { results: Record<string, string> } }).__inspector.results);
      expect(results.script).toMatch(/^fail:/);
      expect(Object.values(results).every((r) => r.startsWith('fail:'))).toBe(true);
    } finally {
      await page.close();
    }
  });
});
