/**
 * What a person reads when a preview cannot open: what happened and the way out. Shared by the
 * bootstrap's failure view and the gateway's HTML error pages (error-page.ts), so both say the
 * same thing for the same code.
 */
import type { PageErrorCode } from './messages.js';

export interface FailureText {
  title: string;
  detail: string;
  /** Which way out to offer first. */
  action: 'relaunch' | 'reload' | 'new-tab';
}

const TEXTS: Partial<Record<PageErrorCode, FailureText>> = {
  invalid_code: {
    title: 'This preview link has expired',
    detail: 'Launch links work once and only for about a minute. Ask the app that showed you this preview for a new link.',
    action: 'relaunch',
  },
  session_revoked: {
    title: 'Access to this preview was ended',
    detail: 'The preview session was revoked. If you should still have access, open the preview again from the app.',
    action: 'relaunch',
  },
  invalid_session: {
    title: 'Your preview session has ended',
    detail: 'The session expired or is no longer valid. Open the preview again from the app to get a new one.',
    action: 'relaunch',
  },
  token_expired: {
    title: 'Your preview session has expired',
    detail: 'Open the preview again from the app to continue.',
    action: 'relaunch',
  },
  missing_credential: {
    title: 'You are not signed in to this preview',
    detail: 'This preview is private. Open it from the app that created it, or follow a share link.',
    action: 'relaunch',
  },
  invalid_token: {
    title: 'Your preview credential is not valid',
    detail: 'Open the preview again from the app to get a new one.',
    action: 'relaunch',
  },
  refresh_reused: {
    title: 'Your preview session was ended for safety',
    detail: 'The same credential was used twice, which can mean it was copied. Open the preview again from the app.',
    action: 'relaunch',
  },
  share_expired: {
    title: 'This share link has expired',
    detail: 'Ask the person who shared it for a new link.',
    action: 'reload',
  },
  share_revoked: {
    title: 'This share link was revoked',
    detail: 'Ask the person who shared it for a new link.',
    action: 'reload',
  },
  wrong_scope: {
    title: 'This credential is for another preview',
    detail: 'Access is granted per sandbox and port. Open this preview from the app to get access to it.',
    action: 'relaunch',
  },
  forbidden: {
    title: 'You may not open this preview',
    detail: 'Your account is not allowed to see this sandbox. Ask its owner for access.',
    action: 'reload',
  },
  sandbox_stopped: {
    title: 'The sandbox is stopped',
    detail: 'Start the sandbox from the app, then reload this page.',
    action: 'reload',
  },
  sandbox_starting: {
    title: 'The sandbox is starting',
    detail: 'This takes a few seconds. Reload the page in a moment.',
    action: 'reload',
  },
  upstream_unavailable: {
    title: 'The app in the sandbox is not answering',
    detail: 'Nothing is listening on this port yet, or the app crashed. Start it, then reload.',
    action: 'reload',
  },
  upstream_timeout: {
    title: 'The app in the sandbox took too long to answer',
    detail: 'Reload the page to try again.',
    action: 'reload',
  },
  daytona_unavailable: {
    title: 'The sandbox service is unavailable',
    detail: 'Reload the page in a moment.',
    action: 'reload',
  },
  store_unavailable: {
    title: 'The preview gateway is briefly unavailable',
    detail: 'It cannot reach its session store right now. Reload the page in a moment.',
    action: 'reload',
  },
  storage_refused: {
    title: 'Your browser blocked this embedded preview',
    detail:
      'The browser refused both the cookie and the Service Worker this preview needs inside another site (third-party storage is blocked). Open the preview in a new tab instead.',
    action: 'new-tab',
  },
  network_error: {
    title: 'The preview gateway could not be reached',
    detail: 'Check your connection and reload.',
    action: 'reload',
  },
};

export function failureText(code: PageErrorCode, fallbackMessage = ''): FailureText {
  return (
    TEXTS[code] ?? {
      title: 'The preview could not be opened',
      detail: fallbackMessage || 'Reload the page; if it keeps failing, open the preview again from the app.',
      action: 'reload',
    }
  );
}
