/**
 * What the upstream handshake carries and what it strips.
 *
 * - The client's end-to-end headers pass (Sec-WebSocket-Key/-Version/-Protocol/-Extensions,
 *   Origin, User-Agent, the app's cookies); hop-by-hop ones are dropped (RFC 9110 §7.6.1) and
 *   `Connection: Upgrade` / `Upgrade: websocket` re-added (RFC 6455 §4.1); `Host` is Daytona's;
 *   client `X-Daytona-*` headers are dropped; the caller names the gateway's own credentials to
 *   strip (`stripRequestHeaders`, `stripCookies`).
 * - Origin is kept as the browser sent it (the gateway's preview origin), as for plain HTTP
 *   requests: the app sees the page's true origin, and X-Forwarded-Host names the same host, so
 *   an app that checks Origin against its forwarded host still accepts it. Rewriting it to
 *   Daytona's host would hide cross-site pages from apps that do check.
 */
import type { IncomingMessage } from 'node:http';
import { connectionTokens, isHopByHop } from '../../core/upstream/hop-by-hop.js';
import type { RelayOptions, WebSocketTarget } from './relay-options.js';

/** The headers of the upgrade request sent to Daytona at `url`. */
export function handshakeHeaders(req: IncomingMessage, url: URL, target: WebSocketTarget, opts: RelayOptions): Record<string, string | string[]> {
  const strip = new Set((opts.stripRequestHeaders ?? []).map((n) => n.toLowerCase()));
  const named = connectionTokens(req.headers.connection);
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (isHopByHop(name, named) || name === 'host' || name.startsWith('x-daytona-') || strip.has(name)) continue;
    if (name === 'x-forwarded-host' || name === 'x-forwarded-proto') continue;
    const prior = out[name];
    out[name] = prior === undefined ? value : ([] as string[]).concat(prior, value);
  }
  if (out.cookie !== undefined && opts.stripCookies?.length) {
    const cookie = filterCookies(([] as string[]).concat(out.cookie).join('; '), opts.stripCookies);
    if (cookie === '') delete out.cookie;
    else out.cookie = cookie;
  }
  const publicOrigin = opts.publicOrigin ?? `http://${req.headers.host ?? ''}`;
  out.host = url.host;
  out.connection = 'Upgrade';
  // Only WebSocket is ever relayed (core/upgrade.ts#checkWebSocketUpgrade refuses h2c and the
  // rest before this point); the value is set, never copied, so nothing else can be asked for.
  out.upgrade = 'websocket';
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-proto'] = publicOrigin.startsWith('https:') ? 'https' : 'http';
  const peer = req.socket.remoteAddress;
  if (peer) {
    const prior = out['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${([] as string[]).concat(prior).join(', ')}, ${peer}` : peer;
  }
  for (const [name, value] of Object.entries(target.headers)) out[name.toLowerCase()] = value;
  return out;
}

function filterCookies(header: string, names: string[]): string {
  const drop = (name: string) => names.some((n) => (n.endsWith('*') ? name.startsWith(n.slice(0, -1)) : name === n));
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !drop(part.slice(0, part.indexOf('=') < 0 ? part.length : part.indexOf('=')).trim()))
    .join('; ');
}
