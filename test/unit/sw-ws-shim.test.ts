/**
 * The WebSocket wrapper of the cookie-less path (sw/page/ws-shim.ts), against a fake native
 * WebSocket: tickets for the page's own origin only, and WebSocket semantics for the app.
 * (Real browsers: test/e2e/webkit.test.ts and test/e2e/cookieless.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { createGateWebSocket, isSameOriginSocket, resolveSocketUrl, type ShimDeps } from '../../sw/page/ws-shim.js';

/** A stand-in for the browser's WebSocket: records what it was given, fires what the test says. */
class FakeNative extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeNative[] = [];
  readyState = 0;
  binaryType: BinaryType = 'blob';
  protocol = '';
  extensions = '';
  bufferedAmount = 0;
  sent: unknown[] = [];
  closedWith: [number | undefined, string | undefined] | null = null;
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    super();
    FakeNative.instances.push(this);
  }
  send(data: unknown) {
    if (this.readyState === 0) throw new DOMException('still connecting', 'InvalidStateError');
    this.sent.push(data);
  }
  close(code?: number, reason?: string) {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
  open(protocol = '') {
    this.readyState = 1;
    this.protocol = protocol;
    this.dispatchEvent(new Event('open'));
  }
  message(data: unknown) {
    const e = new Event('message') as Event & { data: unknown; origin: string; lastEventId: string };
    Object.assign(e, { data, origin: new URL(this.url).origin, lastEventId: '' });
    this.dispatchEvent(e);
  }
  closed(code: number, reason = '', wasClean = true) {
    this.readyState = 3;
    const e = new Event('close');
    Object.assign(e, { code, reason, wasClean });
    this.dispatchEvent(e);
  }
  fail() {
    this.dispatchEvent(new Event('error'));
    this.closed(1006, '', false);
  }
}

const ORIGIN = 'http://3000-abc.preview.localhost:8787';
const location = { href: `${ORIGIN}/app/page`, host: '3000-abc.preview.localhost:8787', protocol: 'http:' };
const events: NonNullable<ShimDeps['events']> = {
  message: (init) => Object.assign(new Event('message'), init),
  close: (init) => Object.assign(new Event('close'), init),
};
const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(ticket: () => Promise<string | null> = async () => 'tkt-1') {
  FakeNative.instances = [];
  const asked: number[] = [];
  let n = 0;
  const WS = createGateWebSocket({
    Native: FakeNative as unknown as typeof WebSocket,
    location,
    events,
    fetchTicket: () => {
      asked.push(++n);
      return ticket();
    },
  });
  return { WS, asked, native: () => FakeNative.instances.at(-1)! };
}

describe('ws shim: which sockets take a ticket', () => {
  it("a socket to the page's own origin connects with a fresh ticket; url stays the app's", async () => {
    const { WS, asked, native } = setup();
    const ws = new WS('/live?room=1');
    expect(FakeNative.instances).toHaveLength(0); // the ticket comes first
    expect(ws.readyState).toBe(WS.CONNECTING);
    expect(ws.url).toBe(`ws://3000-abc.preview.localhost:8787/live?room=1`);
    await tick();
    expect(asked).toEqual([1]);
    expect(native().url).toBe(`ws://3000-abc.preview.localhost:8787/live?room=1&__gate_ticket=tkt-1`);
    expect(ws.url).not.toContain('__gate_ticket');
    const again = new WS(`ws://3000-abc.preview.localhost:8787/live`);
    await tick();
    expect(asked).toEqual([1, 2]); // one ticket per socket (tickets are single-use)
    expect(again).toBeInstanceOf(WS);
  });

  it("another origin (port, sandbox, scheme, site) gets the browser's own socket, no ticket asked", async () => {
    const { WS, asked } = setup();
    for (const url of [
      'ws://8080-abc.preview.localhost:8787/x',
      'ws://3000-other.preview.localhost:8787/x',
      'wss://3000-abc.preview.localhost:8787/x',
      'wss://echo.example.com/',
    ]) {
      const ws = new WS(url);
      expect(ws).toBeInstanceOf(FakeNative);
      expect((ws as unknown as FakeNative).url).toBe(url);
    }
    await tick();
    expect(asked).toEqual([]);
  });

  it('a URL that already carries a ticket is left as it is', async () => {
    const { WS, asked } = setup();
    const ws = new WS(`ws://3000-abc.preview.localhost:8787/x?__gate_ticket=mine`);
    expect(ws).toBeInstanceOf(FakeNative);
    await tick();
    expect(asked).toEqual([]);
  });

  it('no ticket (the request failed): the socket still opens, without one', async () => {
    const { WS, native } = setup(async () => {
      throw new Error('offline');
    });
    const ws = new WS('/live');
    await tick();
    expect(native().url).toBe('ws://3000-abc.preview.localhost:8787/live');
    native().open();
    expect(ws.readyState).toBe(WS.OPEN);
  });

  it('resolves http(s) and relative URLs like the browser; same origin means same host, port and scheme', () => {
    expect(resolveSocketUrl('https://a.test/x', 'http://b.test/')?.href).toBe('wss://a.test/x');
    expect(resolveSocketUrl('ftp://a.test/', 'http://b.test/')).toBeNull();
    expect(resolveSocketUrl('ws://a.test/#frag', 'http://b.test/')).toBeNull();
    const https = { href: 'https://h.test/', host: 'h.test', protocol: 'https:' };
    expect(isSameOriginSocket(new URL('wss://h.test/s'), https)).toBe(true);
    expect(isSameOriginSocket(new URL('ws://h.test/s'), https)).toBe(false);
  });
});

describe('ws shim: behaves like a WebSocket to the app', () => {
  it('events and on… handlers, in order; data, protocol, binaryType reach through', async () => {
    const { WS, native } = setup();
    const ws = new WS('/live', ['chat', 'v2']);
    const seen: string[] = [];
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => seen.push('onopen');
    ws.addEventListener('open', () => seen.push('listener-open'));
    ws.onmessage = (e) => seen.push(`message:${String(e.data)}`);
    ws.onclose = (e) => seen.push(`close:${e.code}:${e.reason}:${e.wasClean}`);
    await tick();
    expect(native().protocols).toEqual(['chat', 'v2']);
    expect(native().binaryType).toBe('arraybuffer');
    native().open('chat');
    expect(ws.readyState).toBe(WS.OPEN);
    expect(ws.protocol).toBe('chat');
    native().message('hello');
    ws.binaryType = 'blob';
    expect(native().binaryType).toBe('blob');
    ws.binaryType = 'nonsense' as BinaryType; // ignored, like the IDL enum attribute
    expect(ws.binaryType).toBe('blob');
    native().closed(1000, 'bye');
    expect(ws.readyState).toBe(WS.CLOSED);
    expect(seen).toEqual(['onopen', 'listener-open', 'message:hello', 'close:1000:bye:true']);
  });

  it('send while CONNECTING throws InvalidStateError (as the browser does), then goes through once open', async () => {
    const { WS, native } = setup();
    const ws = new WS('/live');
    expect(() => ws.send('early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    await tick();
    expect(() => ws.send('still early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    native().open();
    ws.send('now');
    expect(native().sent).toEqual(['now']);
  });

  it('close() before the real socket exists: CLOSING, then error and close 1006; no socket is opened', async () => {
    let release!: (t: string) => void;
    const { WS } = setup(() => new Promise((r) => (release = r)));
    const ws = new WS('/live');
    const seen: string[] = [];
    ws.onerror = () => seen.push('error');
    ws.onclose = (e) => seen.push(`close:${e.code}:${e.wasClean}`);
    ws.close();
    expect(ws.readyState).toBe(WS.CLOSING);
    release('tkt');
    await tick();
    expect(ws.readyState).toBe(WS.CLOSED);
    expect(seen).toEqual(['error', 'close:1006:false']);
    expect(FakeNative.instances).toHaveLength(0);
  });

  it('close() once connecting or open goes to the real socket; bad codes and long reasons are refused like the browser', async () => {
    const { WS, native } = setup();
    const ws = new WS('/live');
    expect(() => ws.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    await tick();
    native().open();
    ws.close(4000, 'done');
    expect(native().closedWith).toEqual([4000, 'done']);
    expect(ws.readyState).toBe(WS.CLOSING);
  });

  it('a refused upgrade surfaces as error + close, like a native socket', async () => {
    const { WS, native } = setup();
    const ws = new WS('/live');
    const seen: string[] = [];
    ws.addEventListener('error', () => seen.push('error'));
    ws.addEventListener('close', (e) => seen.push(`close:${(e as CloseEvent).code}`));
    await tick();
    native().fail();
    expect(seen).toEqual(['error', 'close:1006']);
    expect(ws.readyState).toBe(WS.CLOSED);
  });

  it('invalid or repeated subprotocols throw SyntaxError at once, before any ticket is asked', async () => {
    const { WS, asked } = setup();
    expect(() => new WS('/live', ['a', 'a'])).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WS('/live', 'has space')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    await tick();
    expect(asked).toEqual([]);
  });

  it('constants on the class and instances; instanceof holds for wrapped and native sockets; handler set to null is removed', async () => {
    const { WS } = setup();
    expect([WS.CONNECTING, WS.OPEN, WS.CLOSING, WS.CLOSED]).toEqual([0, 1, 2, 3]);
    const ws = new WS('/live');
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(ws instanceof WS).toBe(true);
    expect(new FakeNative('ws://x/') instanceof WS).toBe(true);
    expect({} instanceof WS).toBe(false);
    const calls: number[] = [];
    ws.onopen = () => calls.push(1);
    ws.onopen = null;
    expect(ws.onopen).toBeNull();
    ws.dispatchEvent(new Event('open'));
    expect(calls).toEqual([]);
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.extensions).toBe('');
  });
});
