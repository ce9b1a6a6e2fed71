/**
 * Does the app's answer let the host page frame it? A browser shows a blank frame, with no event
 * the embed can see, when the answer forbids framing: CSP `frame-ancestors` (JupyterLab sends
 * `frame-ancestors 'self'`) or `X-Frame-Options`. The launch page, in the embed's cross-site
 * frame, asks the app path once before navigating and says `frame_refused` instead
 * (sw/page/bootstrap.ts, ARCHITECTURE.md flow 11). The host page is always another origin than
 * the preview (`{port}-{sandbox}.{previewDomain}`), so `'self'`, `DENY` and `SAMEORIGIN` all
 * refuse it.
 */

/** Does one `frame-ancestors` source expression allow `parent` (an origin)? */
function sourceAllows(source: string, parent: URL | null): boolean {
  const s = source.toLowerCase();
  if (s === '*') return true;
  if (s === "'self'" || s === "'none'") return false; // the host page is never the preview's origin
  if (!parent) return true; // an origin not known here: do not refuse on a guess
  if (/^[a-z][a-z0-9+.-]*:$/.test(s)) return parent.protocol === s || (s === 'http:' && parent.protocol === 'https:');
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*\.)?([^/:]+|\*)(?::(\d+|\*))?(?:\/.*)?$/.exec(s);
  if (!m) return false;
  const [, scheme, wild, host, port] = m;
  if (scheme && `${scheme}:` !== parent.protocol && !(scheme === 'http' && parent.protocol === 'https:')) return false;
  const hostOk = host === '*' || (wild ? parent.hostname.endsWith(`.${host}`) : parent.hostname === host);
  const parentPort = parent.port || (parent.protocol === 'https:' ? '443' : '80');
  const portOk = port === '*' || (port ? port === parentPort : parentPort === (parent.protocol === 'https:' ? '443' : '80'));
  return hostOk && portOk;
}

/**
 * True when the answer's headers forbid framing by `parentOrigin` (null: unknown). Every CSP
 * must allow it (several arrive joined by ", "); `frame-ancestors` wins over X-Frame-Options
 * where both are sent, as in browsers.
 */
export function framingRefused(headers: Headers, parentOrigin: string | null): boolean {
  let parent: URL | null = null;
  try {
    parent = parentOrigin ? new URL(parentOrigin) : null;
  } catch {
    parent = null;
  }
  let sawAncestors = false;
  for (const policy of (headers.get('content-security-policy') ?? '').split(',')) {
    for (const directive of policy.split(';')) {
      const [name, ...sources] = directive.trim().split(/\s+/);
      if (name?.toLowerCase() !== 'frame-ancestors') continue;
      sawAncestors = true;
      if (!sources.some((src) => sourceAllows(src, parent))) return true;
    }
  }
  if (sawAncestors) return false;
  const xfo = (headers.get('x-frame-options') ?? '').trim().toLowerCase();
  return xfo === 'deny' || xfo === 'sameorigin';
}

/** The embedding page's origin as this frame can know it (Chromium/WebKit: ancestorOrigins; else the referrer). */
export function parentOrigin(): string | null {
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors.item(0);
  try {
    return document.referrer ? new URL(document.referrer).origin : null;
  } catch {
    return null;
  }
}

/** How long the check may take before the launch goes on without it. */
export const FRAME_CHECK_TIMEOUT_MS = 5_000;

/**
 * Asks the app path with GET (with the credential: the worker's token or the cookie) and reads
 * its headers. GET, as the navigation will: servers answer HEAD unevenly (405, or an answer
 * rewritten differently). The body is read to its end, not cancelled: a cut-short fetch shows as
 * a failed request in the browser. A network error or a slow app (FRAME_CHECK_TIMEOUT_MS) says
 * nothing: the navigation goes on as before.
 */
export async function appRefusesFraming(path: string): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FRAME_CHECK_TIMEOUT_MS);
  try {
    const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store', signal: abort.signal });
    const refused = framingRefused(response.headers, parentOrigin());
    await response.arrayBuffer().catch(() => undefined);
    return refused;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
