/**
 * Hop-by-hop header removal, RFC 9110 §7.6.1: a proxy MUST remove `Connection` and every header
 * it names, plus the fields that are hop-by-hop by definition, before forwarding a message, in
 * both directions. `Transfer-Encoding` is framing of this hop only (RFC 9112 §6.1): the runtime
 * re-frames the body; `Upgrade` is handled by the WebSocket relay, never by fetch.
 */

/** Headers that are hop-by-hop whatever `Connection` says (RFC 9110 §7.6.1, plus legacy ones). */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection', // non-standard, still sent by some clients (RFC 9110 §7.6.1 mentions it)
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
];

const HOP_BY_HOP = new Set(HOP_BY_HOP_HEADERS);

/**
 * `Connection` values already split, value → tokens: a client sends the same one or two values
 * (`keep-alive`, `Upgrade`) on every request. Bounded, emptied when full; the arrays are frozen,
 * as every caller shares them.
 */
const parsedValues = new Map<string, readonly string[]>();
const NONE: readonly string[] = Object.freeze([]);

/** The names a `Connection` header lists (comma-separated tokens, case-insensitive, lower-cased). */
export function connectionTokens(value: string | null | undefined): readonly string[] {
  if (!value) return NONE;
  const known = parsedValues.get(value);
  if (known !== undefined) return known;
  const tokens = Object.freeze(
    value
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ''),
  );
  if (parsedValues.size >= 256) parsedValues.clear();
  parsedValues.set(value, tokens);
  return tokens;
}

/** Removes hop-by-hop headers from `headers` in place and returns it. */
export function stripHopByHop(headers: Headers): Headers {
  for (const name of connectionTokens(headers.get('connection'))) headers.delete(name);
  for (const name of HOP_BY_HOP_HEADERS) headers.delete(name);
  return headers;
}

/** True when `name` (lower-case) is hop-by-hop given the `Connection` tokens of its message. */
export function isHopByHop(name: string, connectionNamed: readonly string[]): boolean {
  return HOP_BY_HOP.has(name) || (connectionNamed.length > 0 && connectionNamed.includes(name));
}
