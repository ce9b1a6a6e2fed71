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

/** The names a `Connection` header lists (comma-separated tokens, case-insensitive). */
export function connectionTokens(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/** Removes hop-by-hop headers from `headers` in place and returns it. */
export function stripHopByHop(headers: Headers): Headers {
  for (const name of connectionTokens(headers.get('connection'))) headers.delete(name);
  for (const name of HOP_BY_HOP_HEADERS) headers.delete(name);
  return headers;
}

/** True when `name` (lower-case) is hop-by-hop given the `Connection` tokens of its message. */
export function isHopByHop(name: string, connectionNamed: readonly string[]): boolean {
  return HOP_BY_HOP_HEADERS.includes(name) || connectionNamed.includes(name);
}
