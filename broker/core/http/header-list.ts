/**
 * `HeaderList`: the Fetch `Headers` semantics the gateway relies on, without undici's per-call
 * WebIDL conversions and brand checks. On a proxied request the gateway builds three header sets
 * (the client's headers stripped of our credentials, Daytona's answer, and the answer as it
 * leaves); made with undici's `Headers` they were ~7% of a small request's CPU, the largest
 * single group of the profile after Node's own http code (docs/benchmarks.md, "Round 5").
 *
 * What is kept from the Fetch standard (and undici, which the rest of the code was written
 * against): names are case-insensitive and stored lower-case; a repeated name is combined into
 * one value joined by ", " (`cookie` by "; ", as undici does), except `set-cookie`, whose lines
 * stay separate (`getSetCookie`, and one entry each when iterating); values are trimmed of HTTP
 * whitespace; a name that is not a token, or a value with NUL, CR, LF or a character above
 * U+00FF, is refused with a TypeError, exactly where `Headers` refuses it. What differs:
 * iteration follows insertion order instead of being sorted (nothing in the gateway depends on
 * the order of distinct fields; RFC 9110 §5.3 gives it no meaning).
 *
 * Its prototype chain includes `Headers.prototype`, so `instanceof Headers` holds and it can be
 * given wherever a `Headers` is expected (`new Response(body, { headers })` copies it through its
 * iterator). test/property/header-list.property.test.ts checks it against undici's `Headers` call by call.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n\u0100-\uffff]/;
const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function normalizeValue(value: string): string {
  if (value === '' || (!isWhitespace(value.charCodeAt(0)) && !isWhitespace(value.charCodeAt(value.length - 1)))) return value;
  return value.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}

/**
 * Names already checked, as given → lower-case: a request meets the same few dozen names (ours as
 * literals, the client's and the app's as Node parsed them) over and over. Bounded, emptied when full.
 */
const checkedNames = new Map<string, string>();

function checkedName(name: string): string {
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
  const lower = name.toLowerCase();
  if (checkedNames.size >= 1000) checkedNames.clear();
  checkedNames.set(name, lower);
  return lower;
}

function checkedValue(value: string): string {
  const v = normalizeValue(String(value));
  if (BAD_VALUE.test(v)) throw new TypeError('Invalid header value');
  return v;
}

/** How many HeaderLists were made (tests prove the hot path uses them, test/gateway/hot-path.test.ts). */
export const headerListStats = { made: 0 };

export class HeaderList {
  /** Lower-case name → combined value (`set-cookie`: its lines joined, as `Headers#get` gives them). */
  #map = new Map<string, string>();
  /** The separate `set-cookie` lines. */
  #cookies: string[] | null = null;

  constructor(init?: Iterable<readonly [string, string]> | Record<string, string>) {
    headerListStats.made++;
    if (init === undefined) return;
    if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value);
    } else {
      for (const name of Object.keys(init)) this.append(name, (init as Record<string, string>)[name]!);
    }
  }

  /**
   * From a flat `[name, value, name, value, …]` list (Node's `rawHeaders`). A field that `Headers`
   * would refuse is dropped, as fetch-upstream.ts always did with Daytona's answers.
   */
  static fromRaw(raw: readonly string[]): HeaderList {
    const list = new HeaderList();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      try {
        list.append(raw[i]!, raw[i + 1]!);
      } catch {
        /* a field Fetch's Headers would refuse: dropped */
      }
    }
    return list;
  }

  /**
   * From a flat list a strict HTTP/1 parser produced (Node's, without `insecureHTTPParser`: it
   * refuses NUL, CR and LF in a value, and decodes bytes as Latin-1, so no character is above
   * U+00FF): the same list as `fromRaw` without testing each value again (the Node edge decides
   * when its parsers are strict: broker/node/parsed-headers.ts). Names are checked as always.
   */
  static fromParsed(raw: readonly string[]): HeaderList {
    const list = new HeaderList();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      try {
        list.#add(checkedName(raw[i]!), normalizeValue(raw[i + 1]!));
      } catch {
        /* a name Fetch's Headers would refuse: dropped, as by fromRaw */
      }
    }
    return list;
  }

  /**
   * A new list of the fields whose (lower-case) name `keep` accepts, values as they are: they
   * were checked on the way in, so nothing is checked again (forward-request.ts strips the
   * client's credentials this way).
   */
  filtered(keep: (name: string) => boolean): HeaderList {
    const out = new HeaderList();
    this.#map.forEach((value, name) => {
      if (!keep(name)) return;
      out.#map.set(name, value);
      if (name === 'set-cookie' && this.#cookies !== null) out.#cookies = [...this.#cookies];
    });
    return out;
  }

  append(name: string, value: string): void {
    this.#add(checkedName(name), checkedValue(value));
  }

  /** `append` of a checked, lower-case name and a checked value. */
  #add(n: string, v: string): void {
    const prior = this.#map.get(n);
    if (prior === undefined) this.#map.set(n, v);
    else this.#map.set(n, prior + (n === 'cookie' ? '; ' : ', ') + v);
    if (n === 'set-cookie') (this.#cookies ??= []).push(v);
  }

  set(name: string, value: string): void {
    const n = checkedName(name);
    const v = checkedValue(value);
    this.#map.set(n, v);
    if (n === 'set-cookie') this.#cookies = [v];
  }

  delete(name: string): void {
    const n = checkedName(name);
    this.#map.delete(n);
    if (n === 'set-cookie') this.#cookies = null;
  }

  get(name: string): string | null {
    return this.#map.get(checkedName(name)) ?? null;
  }

  has(name: string): boolean {
    return this.#map.has(checkedName(name));
  }

  getSetCookie(): string[] {
    return this.#cookies === null ? [] : [...this.#cookies];
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    // Map#forEach: no iterator and no [name, value] pair per field (the generator below makes both).
    const parent = this as unknown as Headers;
    const cookies = this.#cookies;
    this.#map.forEach((value, name) => {
      if (name === 'set-cookie' && cookies !== null) for (const cookie of cookies) callback.call(thisArg, cookie, name, parent);
      else callback.call(thisArg, value, name, parent);
    });
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of this.#map) {
      if (name === 'set-cookie' && this.#cookies !== null) {
        for (const cookie of this.#cookies) yield [name, cookie];
      } else yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Every field as node:http's `writeHead` takes them (set-cookie as its separate lines). */
  toNodeHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    const cookies = this.#cookies;
    this.#map.forEach((value, name) => {
      out[name] = name === 'set-cookie' && cookies !== null ? [...cookies] : value;
    });
    return out;
  }
}

// `instanceof Headers` holds, and anything reading the prototype sees a Headers. Own methods come
// first in the chain, so undici's brand-checked ones are never called on a HeaderList.
Object.setPrototypeOf(HeaderList.prototype, Headers.prototype);

/** A HeaderList typed as the `Headers` the Fetch-shaped interfaces take. */
export function headerList(init?: Iterable<readonly [string, string]> | Record<string, string>): Headers {
  return new HeaderList(init) as unknown as Headers;
}

/** A HeaderList from Node's flat `rawHeaders`, typed as `Headers` (see HeaderList.fromRaw). */
export function headersFromRaw(raw: readonly string[]): Headers {
  return HeaderList.fromRaw(raw) as unknown as Headers;
}
