/**
 * What a person reads when a preview cannot open: one sentence of what happened (`title`), one
 * of what to do (`detail`), and which way out to offer first. Shared by the bootstrap's failure
 * view and the gateway's HTML pages (error-page.ts), so both say the same thing for the same code.
 */
import type { PageErrorCode } from './messages.js';

export interface FailureText {
  title: string;
  detail: string;
  /** Which way out to offer first. */
  action: 'relaunch' | 'reload' | 'new-tab';
}

/** Where the page is shown, and what it knows of the request: the wording depends on it. */
export interface FailureWhere {
  /** Inside the host app's frame (true) or a tab of its own. */
  framed?: boolean;
  /** The sandbox port of the preview (from its origin's first label). */
  port?: number | null;
}

/** The codes of a preview that is coming: the page waits and turns into the app by itself (waiting.ts). */
export const WAITING_CODES = ['app_not_listening', 'sandbox_starting'] as const;
export type WaitingCode = (typeof WAITING_CODES)[number];
export function isWaitingCode(code: unknown): code is WaitingCode {
  return typeof code === 'string' && (WAITING_CODES as readonly string[]).includes(code);
}

const AGAIN = 'Open the preview again from the app.';

const TEXTS: Partial<Record<PageErrorCode, FailureText>> = {
  invalid_code: {
    title: 'This preview link has expired or was already used.',
    detail: 'Launch links work once, for about a minute: open the preview again from the app.',
    action: 'relaunch',
  },
  session_revoked: { title: 'Access to this preview was ended.', detail: AGAIN, action: 'relaunch' },
  invalid_session: { title: 'Your preview session has ended.', detail: AGAIN, action: 'relaunch' },
  token_expired: { title: 'Your preview session has expired.', detail: AGAIN, action: 'relaunch' },
  missing_credential: {
    title: 'This preview is private.',
    detail: 'Open it from the app that created it, or follow a share link.',
    action: 'relaunch',
  },
  invalid_token: { title: 'Your access to this preview is not valid.', detail: AGAIN, action: 'relaunch' },
  refresh_reused: {
    title: 'Your preview session was ended because its credential was used twice.',
    detail: AGAIN,
    action: 'relaunch',
  },
  share_expired: { title: 'This share link has expired.', detail: 'Ask the person who shared it for a new link.', action: 'relaunch' },
  share_revoked: { title: 'This share link was revoked.', detail: 'Ask the person who shared it for a new link.', action: 'relaunch' },
  wrong_scope: { title: 'Your access is for another preview.', detail: AGAIN, action: 'relaunch' },
  forbidden: { title: 'Your account may not open this preview.', detail: "Ask the sandbox's owner for access.", action: 'relaunch' },
  launch_context_mismatch: {
    title: 'This preview link was opened outside the app it was made for.',
    detail: AGAIN,
    action: 'relaunch',
  },
  sandbox_not_found: { title: 'This sandbox does not exist any more.', detail: 'Go back to the app and open another one.', action: 'relaunch' },
  sandbox_stopped: { title: 'The sandbox is stopped.', detail: 'Start it from the app, then reload this page.', action: 'reload' },
  sandbox_starting: { title: 'The sandbox is starting.', detail: 'This page opens the app as soon as it is ready.', action: 'reload' },
  app_not_listening: {
    title: 'Waiting for the app on this port.',
    detail: 'This page opens the app as soon as it answers; start its dev server in the sandbox if it is not running.',
    action: 'reload',
  },
  upstream_unavailable: { title: 'The sandbox cannot be reached right now.', detail: 'Reload the page in a moment.', action: 'reload' },
  upstream_timeout: { title: 'The app in the sandbox took too long to answer.', detail: 'Reload the page to try again.', action: 'reload' },
  daytona_unavailable: { title: 'The sandbox service is unavailable.', detail: 'Reload the page in a moment.', action: 'reload' },
  store_unavailable: { title: 'The preview gateway is briefly unavailable.', detail: 'Reload the page in a moment.', action: 'reload' },
  rate_limited: { title: 'Too many requests for this preview.', detail: 'Wait a moment, then reload the page.', action: 'reload' },
  storage_refused: {
    title: 'Your browser blocked this preview inside the app.',
    detail: 'Open the preview in a new tab instead.',
    action: 'new-tab',
  },
  frame_refused: {
    title: 'This app does not allow being embedded.',
    detail: 'It refuses to be shown inside another page (its Content-Security-Policy or X-Frame-Options): open it in a new tab.',
    action: 'new-tab',
  },
  network_error: { title: 'The preview gateway could not be reached.', detail: 'Check your connection, then reload.', action: 'reload' },
  not_found: { title: 'There is nothing at this address.', detail: 'Go back to the app and open the preview from there.', action: 'relaunch' },
};

/** storage_refused in a tab of its own: not "inside the app" (e.g. WebKitGTK over plain http drops Secure cookies). */
const TOP_LEVEL_STORAGE_REFUSED: FailureText = {
  title: 'Your browser refused the cookie and the Service Worker this preview needs.',
  detail: 'Open the preview over https, or allow site data for it, then open it again from the app.',
  action: 'reload',
};

/** A launch code that is not even the shape of one (cut short, edited): not "expired". */
export const MALFORMED_CODE: FailureText = {
  title: 'This preview link is not valid.',
  detail: 'It is incomplete or was changed: open the preview again from the app.',
  action: 'relaunch',
};

export function failureText(code: PageErrorCode, fallbackMessage = '', where: FailureWhere = {}): FailureText {
  if (code === 'storage_refused' && where.framed === false) return TOP_LEVEL_STORAGE_REFUSED;
  if (code === 'app_not_listening' && where.port) {
    return { ...TEXTS.app_not_listening!, title: `Waiting for the app on port ${where.port}.` };
  }
  return (
    TEXTS[code] ?? {
      title: fallbackMessage || 'The preview could not be opened.',
      detail: 'Reload the page; if it keeps failing, open the preview again from the app.',
      action: 'reload',
    }
  );
}

/** The sandbox port of a preview origin's host (`{port}-{sandboxId}.…`), or null. */
export function portOfHost(host: string): number | null {
  const m = /^(\d{1,5})-/.exec(host);
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : null;
}
