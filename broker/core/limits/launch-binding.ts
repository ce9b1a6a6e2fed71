/**
 * Login CSRF through launch links (ARCHITECTURE.md flows 1–2). A user allowed on a sandbox can
 * mint a launch URL and send it to someone else; opened as it is, it would sign the victim in
 * as the sender. So a launch is bound to the page that asked for it (`hostOrigin`: the API
 * call's `Origin`, or a `hostOrigin` the host app's backend names), and a browser exchanges the
 * code only where that binding can be seen:
 *
 *  - in a frame: the frame's parent must be the bound origin (`location.ancestorOrigins[0]`
 *    where the browser has it, else `document.referrer`, which the embed sends as the origin:
 *    `referrerpolicy="origin"` on its iframe). Nothing else is accepted in a frame, not even a
 *    click: a foreign page could dress the frame up (clickjacking);
 *  - in a tab of its own: the navigation came from the bound origin (`document.referrer`), or the
 *    person confirms with one click on a page that names the user and the sandbox.
 *
 * Programs (no `context` in the exchange body and no Fetch Metadata: curl, a backend, a test
 * client) are not a victim's browser: they exchange as before. A browser's bootstrap always sends
 * its context; a foreign page cannot post to /__gate/session at all (Origin check).
 */
import { GateError } from '../../../protocol/index.js';

export interface LaunchContext {
  /** False for a program (see above). */
  browser: boolean;
  framed: boolean;
  /** The origin of the frame's parent, when known. */
  parentOrigin: string | null;
  /** The origin of the page that navigated to the launch page, when known. */
  referrerOrigin: string | null;
  /** The person clicked "Continue" on the confirmation. */
  confirmed: boolean;
}

export function originOf(v: unknown): string | null {
  if (typeof v !== 'string' || v === '' || v === 'null' || v.length > 2048) return null;
  try {
    const o = new URL(v).origin;
    return o === 'null' ? null : o;
  } catch {
    return null;
  }
}

/** A `hostOrigin` in the launch request: an origin like https://ide.example.com, else bad_request. */
export function validHostOrigin(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && originOf(v) === v) return v;
  throw new GateError('bad_request', 'hostOrigin must be the origin of the page that opens the preview, like https://ide.example.com (no path).');
}

/** What the exchange request and the bootstrap's report say about where the launch page runs. */
export function launchContextOf(req: Request, body: Record<string, unknown>): LaunchContext {
  const c = body.context && typeof body.context === 'object' ? (body.context as Record<string, unknown>) : null;
  const browser = c !== null || req.headers.has('sec-fetch-site');
  const framed = c ? c.framed === true : false;
  const ancestors = Array.isArray(c?.ancestorOrigins) ? (c!.ancestorOrigins as unknown[]) : [];
  const referrerOrigin = originOf(c?.referrer);
  const parentOrigin = framed ? (ancestors.length ? originOf(ancestors[0]) : referrerOrigin) : null;
  return { browser, framed, parentOrigin, referrerOrigin, confirmed: body.confirmed === true };
}

/** `ok`, `confirm` (ask the person, tab only) or `refuse`. */
export function judgeLaunch(hostOrigin: string | undefined, ctx: LaunchContext | undefined): 'ok' | 'confirm' | 'refuse' {
  if (!ctx || !ctx.browser) return 'ok';
  if (ctx.framed) return hostOrigin !== undefined && ctx.parentOrigin === hostOrigin ? 'ok' : 'refuse';
  if (hostOrigin !== undefined && ctx.referrerOrigin === hostOrigin) return 'ok';
  return ctx.confirmed ? 'ok' : 'confirm';
}
