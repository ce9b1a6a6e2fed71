/**
 * Threat: slow clients holding the gateway's sockets for minutes (slowloris headers, a body
 * that never completes). The gateway cuts a request head that is not complete within the
 * headers timeout and a body that stops moving for the body-idle timeout, with a coded 408,
 * while slow-but-moving transfers (long downloads, slow uploads) and idle WebSockets keep
 * working. Timeouts are set short here (2 s) so the test is quick; the defaults are in
 * docs/interface.md. Bounds are generous: the machine may be loaded.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchResult, type Stack, closeAll } from '../support/stack.js';
import { startEdgeRig, codeOf, type TunnelApp } from './edge-support.js';

let stack: Stack;
let app: TunnelApp;
let sbx: string;
let l: LaunchResult;

beforeAll(async () => {
  ({ stack, app, sbx } = await startEdgeRig({ gateway: { headersTimeoutSeconds: 2, bodyIdleTimeoutSeconds: 2, keepAliveTimeoutSeconds: 1 } }));
  l = await stack.launch('bob', sbx, 3000);
}, 60_000);
afterAll(() => closeAll(stack, app));

const host = () => stack.previewHost(sbx, 3000);

interface Slow {
  /** Everything the gateway sent back. */
  text(): string;
  /** Resolves with the milliseconds from connect to close. */
  closed: Promise<number>;
  write(s: string): void;
  stop(): void;
}

/** A client that writes `first` at once, then `drip` one character every `everyMs` until closed or stopped. */
function slowClient(first: string, drip: string, everyMs: number): Slow {
  const s = net.connect(stack.gateway.port, '127.0.0.1');
  const start = Date.now();
  const chunks: Buffer[] = [];
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  s.on('connect', () => {
    s.write(first);
    if (drip) timer = setInterval(() => s.writable && s.write(drip[i++ % drip.length]!), everyMs);
  });
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    s.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - start);
    }),
  );
  return {
    text: () => Buffer.concat(chunks).toString('latin1'),
    closed,
    write: (x) => s.write(x),
    stop: () => {
      clearInterval(timer);
      s.destroy();
    },
  };
}

const within = (p: Promise<number>, ms: number) => Promise.race([p, new Promise<number>((r) => setTimeout(() => r(Infinity), ms))]);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

describe('slow clients', () => {
  it('a slowloris client (request head at one byte every 300 ms) is refused (408) within the headers timeout', async () => {
    const c = slowClient(`GET / HTTP/1.1\r\nHost: ${host()}\r\n`, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n', 300);
    const ms = await within(c.closed, 15_000);
    c.stop();
    expect(ms).toBeLessThan(15_000);
    expect(ms).toBeGreaterThan(1_500); // cut by the 2 s timeout, not at once
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(codeOf(bodyOf(c.text()))).toBe('request_timeout');
  }, 30_000);

  it('a request body that stops arriving is refused (408) within the body-idle timeout', async () => {
    const c = slowClient(`POST /upload HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nContent-Length: 100\r\n\r\n0123456789`, '', 0);
    const ms = await within(c.closed, 15_000);
    c.stop();
    expect(ms).toBeLessThan(15_000);
    expect(ms).toBeGreaterThan(1_500);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(codeOf(bodyOf(c.text()))).toBe('request_timeout');
  }, 30_000);

  it('control: a slow-but-moving upload (a byte every 400 ms, 4 s in all) is served whole', async () => {
    app.clear();
    const c = slowClient(
      `POST /upload HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n`,
      '0123456789',
      400,
    );
    const ms = await within(c.closed, 30_000);
    c.stop();
    expect(ms).toBeGreaterThan(3_500);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(bodyOf(c.text())).toContain('POST /upload 10');
  }, 40_000);

  it('control: a long slow-but-moving download (10 chunks 500 ms apart, longer than every timeout) arrives whole', async () => {
    const c = slowClient(`GET /slow-download?chunks=10&ms=500 HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: close\r\n\r\n`, '', 0);
    const ms = await within(c.closed, 30_000);
    c.stop();
    expect(ms).toBeGreaterThan(4_000);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 /);
    for (let i = 0; i < 10; i++) expect(c.text()).toContain(`chunk ${i}\n`);
  }, 40_000);

  it('control: a WebSocket idle for longer than every timeout stays open and still carries data', async () => {
    app.clear();
    const c = slowClient(
      `GET /ws HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      '',
      0,
    );
    expect(await within(c.closed, 4_000)).toBe(Infinity); // still open after 4 s of silence
    expect(c.text()).toMatch(/^HTTP\/1\.1 101 /);
    c.write('still-here');
    await new Promise((r) => setTimeout(r, 500));
    c.stop();
    expect(app.tunnelled()).toContain('still-here');
  }, 30_000);

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const c = slowClient(`GET /a HTTP/1.1\r\nHost: ${host()}\r\nCookie: ${l.cookieHeader}\r\n\r\n`, '', 0);
    const ms = await within(c.closed, 15_000);
    c.stop();
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms).toBeLessThan(4_000); // 1 s configured (Node's own default would be 5 s)
  }, 30_000);
});
