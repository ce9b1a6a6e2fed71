/**
 * The client's address as the gateway counts it for rate limits (and appends to
 * X-Forwarded-For): the socket's peer, unless that peer is one of GATE_TRUSTED_PROXIES. Then
 * `X-Forwarded-For` is read from the right (the entry the nearest proxy appended) and every
 * further trusted proxy is skipped; the first untrusted address is the client. A client cannot
 * choose its own address by sending `X-Forwarded-For`: entries left of the first untrusted
 * one are never read, and without a trusted peer the header is ignored altogether.
 */
import { BlockList, isIP } from 'node:net';

export type ClientAddressResolver = (peer: string | undefined, forwardedFor: string | string[] | undefined) => string | undefined;

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`. */
function plain(address: string): string {
  const a = address.trim().toLowerCase();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * @example
 * const resolve = createClientAddressResolver(['10.0.0.0/8']);
 * resolve('10.1.2.3', '203.0.113.9, 10.0.0.7'); // '203.0.113.9'
 * resolve('198.51.100.1', '203.0.113.9');        // '198.51.100.1' (peer not trusted)
 */
export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [addr, bits] = entry.split('/');
    const a = plain(addr!);
    const type = isIP(a) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(a, type);
    else trusted.addSubnet(a, Number(bits), type);
  }
  const isTrusted = (a: string): boolean => {
    const kind = isIP(a);
    if (kind === 0) return false;
    return trusted.check(a, kind === 6 ? 'ipv6' : 'ipv4');
  };
  return (peer, forwardedFor) => {
    if (peer === undefined) return undefined;
    let current = plain(peer);
    if (trustedProxies.length === 0 || !isTrusted(current)) return current;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
    const hops = header
      .split(',')
      .map((h) => plain(h))
      .filter(Boolean);
    while (hops.length && isTrusted(current)) {
      const next = hops.pop()!;
      // A malformed entry ends the walk: the last trusted hop is the best we know.
      if (isIP(next) === 0) return current;
      current = next;
    }
    return current;
  };
}
