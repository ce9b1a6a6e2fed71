/**
 * The preview warning interstitial (docs/daytona.md, "Warning page, CORS, activity"): a 200 HTML page served
 * *before* auth to browser user agents only, skipped for WebSocket upgrades, reserved ports,
 * `X-Daytona-Skip-Preview-Warning: true` and the acceptance cookie
 * `daytona-preview-page-accepted=true`, which POST `/accept-daytona-preview-warning?redirect=`
 * sets. "Browser" means a User-Agent whose browser name (as a UA parser reads it) is one of
 * chrome, firefox, safari, edge, brave, vivaldi, samsung, opera: a headless Chromium
 * (`HeadlessChrome/…`), curl or a library is not warned.
 */
import type { IncomingMessage } from 'node:http';
import { headerValue, parseCookies } from './headers.js';
import { RESERVED_PORTS } from './auth.js';

export const SKIP_WARNING_HEADER = 'x-daytona-skip-preview-warning';
export const ACCEPTED_COOKIE = 'daytona-preview-page-accepted';
export const ACCEPT_PATH = '/accept-daytona-preview-warning';

const WARNED_BROWSERS: ReadonlySet<string> = new Set(['chrome', 'firefox', 'safari', 'edge', 'brave', 'vivaldi', 'samsung', 'opera']);

/** The browser name a UA parser reports, lower-cased; the most specific product token wins. */
export function browserName(ua: string): string {
  const order: Array<[RegExp, string]> = [
    [/HeadlessChrome\//, 'headlesschrome'],
    [/Edg(e|A|iOS)?\//, 'edge'],
    [/OPR\/|Opera/, 'opera'],
    [/SamsungBrowser\//, 'samsung'],
    [/Vivaldi\//, 'vivaldi'],
    [/Brave/, 'brave'],
    [/Firefox\/|FxiOS\//, 'firefox'],
    [/Chromium\//, 'chromium'],
    [/Chrome\/|CriOS\//, 'chrome'],
    [/Version\/[\d.]+.*Safari\//, 'safari'],
  ];
  for (const [pattern, name] of order) if (pattern.test(ua)) return name;
  return '';
}

export function shouldWarn(req: IncomingMessage, port: number, isUpgrade: boolean): boolean {
  if (isUpgrade || RESERVED_PORTS.has(port)) return false;
  if (!WARNED_BROWSERS.has(browserName(headerValue(req.headers, 'user-agent') ?? ''))) return false;
  if (headerValue(req.headers, SKIP_WARNING_HEADER)?.toLowerCase() === 'true') return false;
  return parseCookies(req.headers.cookie)[ACCEPTED_COOKIE] !== 'true';
}

/** Only same-origin paths: the acceptance endpoint must not be an open redirect. */
export function safeRedirect(target: string | null): string {
  return target && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') ? target : '/';
}

export function warningPage(returnTo: string): string {
  const action = `${ACCEPT_PATH}?redirect=${encodeURIComponent(returnTo)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Preview warning</title></head>
<body id="daytona-preview-warning">
<h1>You are about to visit a Daytona sandbox preview</h1>
<p>This page is served by a sandbox. Only continue if you trust whoever sent you the link.</p>
<form method="POST" action="${action.replace(/"/g, '&quot;')}"><button type="submit">Continue</button></form>
</body></html>
`;
}

export function acceptedCookie(): string {
  return `${ACCEPTED_COOKIE}=true; Path=/; Max-Age=86400`;
}
