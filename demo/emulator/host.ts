/**
 * Daytona's preview host parsing (docs/daytona.md, "Host parsing"): split the Host on `.`, take the
 * first label, cut it at the first `-`; the left part must be numeric (the port), the right
 * part is the sandbox id or a signed token, the remaining labels are the base domain.
 * Like Daytona, the base domain is not checked: any host whose first label parses is a
 * preview host. Everything else (127.0.0.1, localhost) is the API / health face.
 */

export interface PreviewHost {
  /** The numeric port from the label; may be out of range (0, 65536): the proxy rejects it. */
  port: number;
  /** Sandbox id or signed token. */
  idOrToken: string;
  /** Host name without the `:port` suffix, e.g. `3000-<id>.proxy.localhost`. */
  hostname: string;
  /** Labels after the first one, e.g. `proxy.localhost`. */
  baseDomain: string;
}

/** Strips a `:port` suffix (and IPv6 brackets are never preview hosts). */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader;
  const colon = hostHeader.lastIndexOf(':');
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

export function parsePreviewHost(hostHeader: string | undefined): PreviewHost | null {
  if (!hostHeader) return null;
  const hostname = hostnameOf(hostHeader);
  const labels = hostname.split('.');
  if (labels.length < 2) return null;
  const first = labels[0] ?? '';
  const dash = first.indexOf('-');
  if (dash <= 0) return null;
  const portText = first.slice(0, dash);
  const idOrToken = first.slice(dash + 1);
  if (!/^[0-9]{1,6}$/.test(portText) || idOrToken === '') return null;
  return { port: Number(portText), idOrToken, hostname, baseDomain: labels.slice(1).join('.') };
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
