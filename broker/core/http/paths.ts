/**
 * Every decision the gateway takes on a request path, with one documented normalisation.
 *
 * The gateway forwards the path as the client sent it (byte for byte), but the sandbox app and
 * Daytona's proxy may read it differently: servers decode `%2F`, decode twice (`%252e` → `.`),
 * treat `\` as `/`, drop `;params` from segments (Tomcat, Jetty, Spring read `..;` as `..`),
 * collapse `//`, and resolve `.`/`..` AFTER decoding (Python's http.server reads
 * `/x/..%2f__gate/sw.js` as `/__gate/sw.js`). So a path is judged by all its READINGS:
 *
 *   starting from the path as sent AND from the WHATWG URL parser's reading of it (which turns a
 *   raw `\` into `/` and resolves dot segments before any decoding), for each decoding depth
 *   d = 0, 1, 2, 3 (percent-decoding applied d times, leniently: a
 *   malformed escape stays as it is; `;params` dropped or not before each pass, as Tomcat drops
 *   them before decoding), the text is NORMALISED:
 *     1. `\` → `/`;
 *     2. `;params` removed from every segment;
 *     3. empty segments (`//`) collapsed;
 *     4. `.` and `..` segments resolved (RFC 3986 §5.2.4; `..` above the root stays at the root);
 *   and, since servers differ on steps 1–3, once more for every combination of applying them or
 *   not (`Reading`): each result is one READING of the path.
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

/** How one server splits and cleans a decoded path (see `normalisePath`). */
export interface Reading {
  /** `\` is a separator (Windows-minded servers, proxies that "fix" paths). */
  backslash: boolean;
  /** `;params` are dropped from each segment (Tomcat, Jetty, Spring). */
  params: boolean;
  /** Empty segments (`//`) are merged (nginx, most routers). */
  merge: boolean;
}

const ALL_READINGS: Reading[] = [];
for (const backslash of [true, false]) for (const params of [true, false]) for (const merge of [true, false]) ALL_READINGS.push({ backslash, params, merge });

/**
 * Steps 1–4 of the normalisation on an already decoded path: `\` → `/`, `;params` dropped,
 * `//` merged, `.`/`..` resolved. Always starts with `/`. With `reading`, one server's choice
 * of steps 1–3 (step 4 always applies: every server resolves dot segments).
 */
export function normalisePath(decoded: string, reading: Reading = { backslash: true, params: true, merge: true }): string {
  const out: string[] = [];
  const segs = (reading.backslash ? decoded.replace(/\\/g, '/') : decoded).split('/');
  for (let i = segs[0] === '' ? 1 : 0; i < segs.length; i++) {
    const raw = segs[i]!;
    const seg = reading.params ? raw.split(';', 1)[0]! : raw;
    if (seg === '.' || (seg === '' && reading.merge)) continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  // Without merging, a trailing empty segment is the trailing slash, not a path step.
  if (!reading.merge && out.length > 0 && out[out.length - 1] === '') out.pop();
  return `/${out.join('/')}`;
}

/**
 * One percent-decoding pass, lenient like Python's `unquote`: every valid `%XX` run is decoded
 * (as UTF-8, or byte by byte when it is not UTF-8) and a malformed escape elsewhere (`%zz`, a
 * lone `%`) stays as it is, so it cannot hide the rest of the path from the judgement.
 */
function decodeOnce(p: string): string {
  return p.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
  });
}

/** The path as the WHATWG URL parser reads the request target `pathname` (itself when it cannot). */
function whatwgPath(pathname: string): string {
  if (!pathname.startsWith('/')) return pathname;
  try {
    return new URL(`http://h.invalid${pathname}`).pathname;
  } catch {
    return pathname;
  }
}

/** Drops `;params` from every `/`-separated segment of the (possibly still encoded) text. */
function dropParams(p: string): string {
  return p.replace(/;[^/]*/g, '');
}

/**
 * The texts a server may end up judging: the path decoded 0..MAX_DECODINGS times, with
 * `;params` dropped or not before each decoding (Tomcat drops them from the raw path first,
 * then decodes, so `..;x%2f` is `..` to it).
 */
export function decodings(pathname: string): string[] {
  // The WHATWG URL parser's reading is a starting text too: it turns a raw `\` into `/` and
  // resolves dot segments (`%2e` included) BEFORE anything is decoded, while a decoded `%5c`
  // stays `\` (a mix no single `Reading` below makes). It is what a Request URL built from the
  // request target holds (@hono/node-server, browsers, Node, Deno).
  const whatwg = whatwgPath(pathname);
  const seen = new Set<string>([pathname, whatwg]);
  let frontier = [...seen];
  for (let i = 0; i < MAX_DECODINGS && frontier.length > 0; i++) {
    const next: string[] = [];
    for (const p of frontier) {
      for (const q of [decodeOnce(p), decodeOnce(dropParams(p))]) {
        if (!seen.has(q)) {
          seen.add(q);
          next.push(q);
        }
      }
    }
    frontier = next;
  }
  return [...seen];
}

/** Every way an upstream may read `pathname` (see the header): each decoding under each `Reading`. */
export function pathReadings(pathname: string): string[] {
  const out = new Set<string>();
  for (const d of decodings(pathname)) for (const r of ALL_READINGS) out.add(normalisePath(d, r));
  return [...out];
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === bare || path.startsWith(`${bare}/`);
}

/**
 * A path no reading can change: no `%` (nothing to decode), no `\\`, no `;`, no empty segment
 * except a final one, and no segment starting with `.` (so no `.` or `..`). Every reading of it
 * is the path itself, a final `/` dropped (`normalisePath` with any `Reading`), so it is judged
 * on that one string: the usual request path is, and computing its 24 readings was ~2% of a
 * proxied request.
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~!$&'()*+,=:@-][A-Za-z0-9._~!$&'()*+,=:@-]*)*\/?$/;

/** How many reserved-path decisions took the plain-path shortcut (tests prove it is taken). */
export const pathStats = { plain: 0 };

/** True for any path an app server could read as the reserved prefix `/__gate` (never forwarded). */
export function isReservedPath(pathname: string): boolean {
  if (PLAIN_PATH.test(pathname)) {
    pathStats.plain++;
    const only = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    return underPrefix(only === '' ? '/' : only, RESERVED_PREFIX);
  }
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
