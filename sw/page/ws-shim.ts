/**
 * The WebSocket wrapper of the cookie-less worker path ("worker-only", ARCHITECTURE.md flow 12).
 *
 * A WebSocket handshake never reaches a Service Worker, and where the browser refuses every
 * cookie in the frame (WebKit's cross-site iframe) nothing else could authenticate it. So the
 * worker adds `<script src="/__gate/ws.js">` to the app's HTML (sw/worker/inject-shim.ts) and
 * this wrapper replaces `window.WebSocket`: `new WebSocket(url)` to the page's own origin first
 * asks `POST /__gate/ws-ticket` for a single-use ticket (the worker attaches the access token to
 * that fetch), then opens the real socket at `url` plus `?__gate_ticket=` (the gateway consumes
 * the ticket and strips it before the app, broker/core/authenticate.ts). Other origins, and a
 * URL that already has a ticket, get the browser's own WebSocket untouched.
 *
 * To the app it is a WebSocket: the same constants, `url` (without the ticket), `readyState`
 * (CONNECTING while the ticket is fetched), `protocol`, `extensions`, `bufferedAmount`,
 * `binaryType` (kept and applied to the real socket), the four events and their `on…`
 * attributes, `send` throwing InvalidStateError while CONNECTING (as the browser's does),
 * `close()` before open (CLOSING, then `error` and `close` 1006 as the browser reports a
 * connection failed by close()), and `instanceof WebSocket` true for it and for native sockets.
 */

export interface ShimLocation {
  href: string;
  host: string;
  protocol: string;
}

export interface ShimDeps {
  /** The browser's WebSocket, captured before it is replaced. */
  Native: typeof WebSocket;
  location: ShimLocation;
  /** `POST /__gate/ws-ticket` (`port`: a sibling origin's, several-port grant); the ticket, or null (then the socket opens without one). */
  fetchTicket(port?: number): Promise<string | null>;
  /** The port of a socket URL on a sibling origin of the same sandbox (sw/worker/sibling-origins.ts), else null. */
  siblingPort?(u: URL): number | null;
  /** Builds the events the wrapper dispatches (tests in Node pass plain ones). */
  events?: {
    message(init: { data: unknown; origin: string; lastEventId: string }): Event;
    close(init: { code: number; reason: string; wasClean: boolean }): Event;
  };
}

export const TICKET_QUERY = '__gate_ticket';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** RFC 9110 token characters: what a subprotocol name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function domError(message: string, name: string): Error {
  return new DOMException(message, name);
}

/** The ws:/wss: URL the browser would use, or null when the browser itself must judge it. */
export function resolveSocketUrl(url: string | URL, base: string): URL | null {
  let u: URL;
  try {
    u = new URL(String(url), base);
  } catch {
    return null;
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || u.hash) return null;
  return u;
}

/** True for the page's own origin (same host and port, ws for http pages, wss for https ones). */
export function isSameOriginSocket(u: URL, location: ShimLocation): boolean {
  return u.host === location.host && u.protocol === (location.protocol === 'https:' ? 'wss:' : 'ws:');
}

function checkProtocols(protocols: string | string[] | undefined): string[] {
  const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : Array.from(protocols, String);
  const seen = new Set<string>();
  for (const p of list) {
    if (!TOKEN.test(p) || seen.has(p.toLowerCase())) throw domError(`The subprotocol '${p}' is invalid or repeated.`, 'SyntaxError');
    seen.add(p.toLowerCase());
  }
  return list;
}

type Handler = ((this: WebSocket, ev: Event) => unknown) | null;
const EVENT_TYPES = ['open', 'message', 'error', 'close'] as const;
type EventType = (typeof EVENT_TYPES)[number];

/** The wrapping class; `install` puts it on `window.WebSocket`. */
export function createGateWebSocket(deps: ShimDeps): typeof WebSocket {
  const { Native } = deps;
  const makeMessage = deps.events?.message ?? ((init) => new MessageEvent('message', { data: init.data, origin: init.origin, lastEventId: init.lastEventId }));
  const makeClose = deps.events?.close ?? ((init) => new CloseEvent('close', init));

  class GateWebSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;

    /** Both wrapped and native sockets are `instanceof WebSocket` for the app. */
    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof Native || Function.prototype[Symbol.hasInstance].call(GateWebSocket, value);
    }

    #url = '';
    #state: number = CONNECTING;
    #binaryType: BinaryType = 'blob';
    #real: WebSocket | null = null;
    readonly #handlers = new Map<EventType, { fn: Handler; listener: (ev: Event) => void }>();

    // biome-ignore lint/correctness/noUnreachableSuper: super() runs for the page's own origin; other URLs return a native socket first.
    constructor(url: string | URL, protocols?: string | string[]) {
      const resolved = resolveSocketUrl(url, deps.location.href);
      // Another origin, a URL the browser must judge, or a ticket already there: the browser's own.
      const sibling = resolved && !isSameOriginSocket(resolved, deps.location) ? (deps.siblingPort?.(resolved) ?? null) : null;
      if (!resolved || (!isSameOriginSocket(resolved, deps.location) && sibling === null) || resolved.searchParams.has(TICKET_QUERY)) {
        // biome-ignore lint/correctness/noConstructorReturn: a native socket for every other URL, on purpose.
        return new Native(url, protocols) as unknown as GateWebSocket;
      }
      const list = checkProtocols(protocols);
      super();
      this.#url = resolved.href;
      void this.#connect(resolved, list, sibling);
    }

    async #connect(url: URL, protocols: string[], siblingPort: number | null): Promise<void> {
      const ticket = await (siblingPort === null ? deps.fetchTicket() : deps.fetchTicket(siblingPort)).catch(() => null);
      if (this.#state !== CONNECTING) {
        // close() was called while the ticket was on its way: the connection failed by close().
        this.#state = CLOSED;
        this.dispatchEvent(new Event('error'));
        this.dispatchEvent(makeClose({ code: 1006, reason: '', wasClean: false }));
        return;
      }
      const target = new URL(url.href);
      if (ticket) target.searchParams.set(TICKET_QUERY, ticket);
      let real: WebSocket;
      try {
        real = new Native(target.href, protocols);
      } catch {
        this.#state = CLOSED;
        this.dispatchEvent(new Event('error'));
        this.dispatchEvent(makeClose({ code: 1006, reason: '', wasClean: false }));
        return;
      }
      real.binaryType = this.#binaryType;
      this.#real = real;
      real.addEventListener('open', () => this.dispatchEvent(new Event('open')));
      real.addEventListener('message', (e) => {
        const m = e as MessageEvent;
        this.dispatchEvent(makeMessage({ data: m.data, origin: m.origin, lastEventId: m.lastEventId }));
      });
      real.addEventListener('error', () => this.dispatchEvent(new Event('error')));
      real.addEventListener('close', (e) => {
        const c = e as CloseEvent;
        this.#state = CLOSED;
        this.dispatchEvent(makeClose({ code: c.code, reason: c.reason, wasClean: c.wasClean }));
      });
    }

    get url(): string {
      return this.#url;
    }
    get readyState(): number {
      return this.#real && this.#state !== CLOSED ? this.#real.readyState : this.#state;
    }
    get protocol(): string {
      return this.#real?.protocol ?? '';
    }
    get extensions(): string {
      return this.#real?.extensions ?? '';
    }
    get bufferedAmount(): number {
      return this.#real?.bufferedAmount ?? 0;
    }
    get binaryType(): BinaryType {
      return this.#binaryType;
    }
    set binaryType(value: BinaryType) {
      // Like the IDL enum attribute: an unknown value is ignored.
      if (value !== 'blob' && value !== 'arraybuffer') return;
      this.#binaryType = value;
      if (this.#real) this.#real.binaryType = value;
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (!this.#real || this.#real.readyState === CONNECTING)
        throw domError("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
      this.#real.send(data);
    }

    close(code?: number, reason?: string): void {
      if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
        throw domError(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
      }
      if (reason !== undefined && new TextEncoder().encode(reason).length > 123)
        throw domError('The close reason must not be longer than 123 bytes.', 'SyntaxError');
      if (this.#real) this.#real.close(code, reason);
      else if (this.#state === CONNECTING) this.#state = CLOSING;
    }

    #handler(type: EventType): Handler {
      return this.#handlers.get(type)?.fn ?? null;
    }
    /** An event handler attribute: one listener, added when first set (as the browser does). */
    #setHandler(type: EventType, fn: Handler): void {
      const current = this.#handlers.get(type);
      if (typeof fn !== 'function') {
        if (current) this.removeEventListener(type, current.listener);
        this.#handlers.delete(type);
        return;
      }
      if (current) current.fn = fn;
      else {
        const entry = { fn, listener: (ev: Event) => void entry.fn?.call(this as unknown as WebSocket, ev) };
        this.#handlers.set(type, entry);
        this.addEventListener(type, entry.listener);
      }
    }
    get onopen(): Handler {
      return this.#handler('open');
    }
    set onopen(fn: Handler) {
      this.#setHandler('open', fn);
    }
    get onmessage(): Handler {
      return this.#handler('message');
    }
    set onmessage(fn: Handler) {
      this.#setHandler('message', fn);
    }
    get onerror(): Handler {
      return this.#handler('error');
    }
    set onerror(fn: Handler) {
      this.#setHandler('error', fn);
    }
    get onclose(): Handler {
      return this.#handler('close');
    }
    set onclose(fn: Handler) {
      this.#setHandler('close', fn);
    }
  }
  for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    Object.defineProperty(GateWebSocket.prototype, name, { value, enumerable: true });
  }
  return GateWebSocket as unknown as typeof WebSocket;
}
