/** Small header and cookie helpers shared by the proxy, the relay and the inspector. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) never travel past a proxy. `upgrade` is re-added by the WebSocket relay. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** First value of a header, whatever Node made of duplicates. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `name=value` pairs of the Cookie header; the first occurrence of a name wins (RFC 6265 §5.4). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The Cookie header without the named cookies; undefined when nothing is left. */
export function removeCookies(header: string | undefined, names: (name: string) => boolean): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !names(p.slice(0, Math.max(0, p.indexOf('=')))));
  return kept.length ? kept.join('; ') : undefined;
}

/**
 * Copies request headers for the upstream hop: drops hop-by-hop ones (and any named in
 * `Connection`), keeps duplicates as arrays so nothing is merged behind the app's back.
 */
export function forwardableHeaders(rawHeaders: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionTokens(rawHeaders);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

/** Header names listed in the `Connection` headers of a raw header list (RFC 9110 §7.6.1). */
function connectionTokens(rawHeaders: string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === 'connection') {
      for (const t of (rawHeaders[i + 1] ?? '').split(',')) tokens.add(t.trim().toLowerCase());
    }
  }
  return tokens;
}

/**
 * Response headers of the upstream answer as a flat `[name, value, ...]` list, hop-by-hop ones
 * and any the app named in `Connection` removed, as Go's reverse proxy (Daytona's) does.
 */
export function forwardableResponseHeaders(rawHeaders: string[]): string[] {
  const named = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  return out;
}

/** Removes one query parameter (by decoded name) from a raw query, leaving the rest byte-for-byte. */
export function removeQueryParam(search: string, name: string): string {
  if (!search) return '';
  const kept = search
    .replace(/^\?/, '')
    .split('&')
    .filter((pair) => {
      const key = pair.split('=')[0] ?? '';
      try {
        return decodeURIComponent(key.replace(/\+/g, ' ')) !== name;
      } catch {
        return true;
      }
    });
  const joined = kept.filter((p) => p !== '').join('&');
  return joined ? `?${joined}` : '';
}
