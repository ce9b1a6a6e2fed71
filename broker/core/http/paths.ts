/**
 * Every decision the gateway takes on a request path, with one documented normalisation.
 *
 * The gateway forwards the path as the client sent it (byte for byte), but the sandbox app and
 * Daytona's proxy may read it differently: servers decode `%2F`, decode twice (`%252e` → `.`),
 * treat `\` as `/`, drop `;params` from segments (Tomcat, Jetty, Spring read `..;` as `..`),
 * collapse `//`, and resolve `.`/`..` AFTER decoding (Python's http.server reads
 * `/x/..%2f__gate/sw.js` as `/__gate/sw.js`). So a path is judged by all its READINGS:
 *
 *   for each decoding depth d = 0, 1, 2, 3 (percent-decoding applied d times, stopping early
 *   when nothing changes or an escape is malformed), the decoded text is NORMALISED:
 *     1. `\` → `/`;
 *     2. `;params` removed from every segment;
 *     3. empty segments (`//`) collapsed;
 *     4. `.` and `..` segments resolved (RFC 3986 §5.2.4; `..` above the root stays at the root).
 *
 * and a decision holds only if it holds for every reading:
 *  - reserved (`isReservedPath`): ANY reading is `/__gate` or under `/__gate/` → never forwarded;
 *  - share scope (`inScope`): EVERY reading lies inside the scope, and (stricter, for scoped
 *    paths only) no encoded `/`, `\`, `.`, `%`, no `;`, no dot segment appears at all;
 *  - launch path (`validPath`): printable, same-origin, and not reserved by the rule above.
 * Case is never folded: URL paths are case-sensitive (RFC 3986 §6.2.2.1), so `/__GATE/` is the
 * app's own path.
 */
import { GateError } from '../../../protocol/index.js';

/** The reserved prefix of every preview origin (gate-paths.ts serves it). */
export const RESERVED_PREFIX = '/__gate';

/** How many times a path is percent-decoded when its readings are computed. */
const MAX_DECODINGS = 3;

/** Step 1–4 of the normalisation on an already decoded path. Always starts with `/`. */
export function normalisePath(decoded: string): string {
  const out: string[] = [];
  for (const raw of decoded.replace(/\\/g, '/').split('/')) {
    const seg = raw.split(';', 1)[0]!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  // No trailing slash: `/__gate/` reads as `/__gate`, which is reserved all the same.
  return `/${out.join('/')}`;
}

/** The path decoded 0..MAX_DECODINGS times (distinct stages only). */
export function decodings(pathname: string): string[] {
  const stages = [pathname];
  let p = pathname;
  for (let i = 0; i < MAX_DECODINGS; i++) {
    let next: string;
    try {
      next = decodeURIComponent(p);
    } catch {
      break; // a malformed escape: servers refuse it or keep it raw; judge what we have
    }
    if (next === p) break;
    stages.push(next);
    p = next;
  }
  return stages;
}

/** Every way an upstream may read `pathname` (see the header): one normalised path per decoding depth. */
export function pathReadings(pathname: string): string[] {
  return [...new Set(decodings(pathname).map(normalisePath))];
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === bare || path.startsWith(`${bare}/`);
}

/** True for any path an app server could read as the reserved prefix `/__gate` (never forwarded). */
export function isReservedPath(pathname: string): boolean {
  return pathReadings(pathname).some((p) => underPrefix(p, RESERVED_PREFIX));
}

/** The path prefix a share path confines to: its path part, without query or fragment. */
export function scopeOf(path: string): string {
  return path.split(/[?#]/, 1)[0] || '/';
}

/**
 * True when `pathname` lies inside the scope `prefix`: equal, or below it at a segment
 * boundary (`/docs` covers `/docs/a`, not `/docs-private`), under every reading. A scoped path
 * is also refused outright when it holds anything an upstream could read differently: encoded
 * `/`, `\` or `.` (`%2f`, `%5c`, `%2e`), a raw `\`, an encoded `%` (`%25`: double decoding), a
 * `;` (path parameters), or a `.`/`..` segment.
 */
export function inScope(pathname: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  if (/%2f|%5c|\\|%2e|%25|;/i.test(pathname)) return false;
  if (pathname.split('/').some((seg) => seg === '.' || seg === '..')) return false;
  if (!underPrefix(pathname, prefix)) return false;
  return pathReadings(pathname).every((p) => underPrefix(p, prefix));
}

/** A landing path (launch, share): same-origin (one leading `/`), printable, not reserved. */
export function validPath(v: unknown, field = 'path'): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > 2048 || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\') || /[\x00-\x1f\x7f\\#]/.test(v)) {
    throw new GateError('bad_request', `${field} must be an absolute path on the preview origin, like /index.html (at most 2048 characters, no #).`);
  }
  if (isReservedPath(v.split('?', 1)[0]!)) throw new GateError('bad_request', `${field} may not point into the reserved /__gate/ prefix.`);
  return v;
}
