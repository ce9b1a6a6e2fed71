/**
 * Reading the gateway's coded errors back, on the browser side (the Service Worker, the launch
 * page, the embed): one reader and one "the session is over" list, so the worker and the embed
 * cannot drift apart. Pure functions over the answer's parts: no Fetch types here, this file is
 * checked against plain ES2022 (tsconfig.protocol.json).
 */
import { type ErrorCode, isErrorCode } from './errors.js';

/** The parts of an HTTP answer the reader looks at. */
export interface ErrorAnswerParts {
  status: number;
  contentType: string | null;
  wwwAuthenticate: string | null;
  body: string;
}

/**
 * 401 codes that may be named in `WWW-Authenticate`, most specific first: RFC 6750 §3's
 * `error="invalid_token"` is the umbrella for all of them, so a code named anywhere in the header
 * (`error_code=`, or the description) wins over it.
 */
const HEADER_CODES: readonly ErrorCode[] = [
  'token_expired',
  'session_revoked',
  'invalid_session',
  'refresh_reused',
  'share_expired',
  'share_revoked',
  'invalid_code',
  'missing_credential',
  'invalid_token',
];

/**
 * The coded error of a gateway answer: `{"error":{"code","message"}}` for JSON, the
 * `data-gate-code` attribute of an HTML error page (broker/core/http/pages.ts), or else the
 * `WWW-Authenticate` header. Null when the answer names no known code (not the gateway's answer).
 */
export function readErrorAnswer(answer: ErrorAnswerParts): { code: ErrorCode; message: string } | null {
  if ((answer.contentType ?? '').includes('json')) {
    try {
      const error = (JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      if (isErrorCode(error?.code)) return { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
    } catch {
      // not JSON after all: fall through to the header
    }
  } else {
    const fromHtml = /data-gate-code="([a-z_]+)"/.exec(answer.body)?.[1];
    if (isErrorCode(fromHtml)) return { code: fromHtml, message: '' };
  }
  const header = answer.wwwAuthenticate ?? '';
  const code = HEADER_CODES.find((c) => new RegExp(`\\b${c}\\b`).test(header));
  return code ? { code, message: '' } : null;
}

/**
 * Codes that say the preview session (its refresh credential, or the launch that would start
 * it) is over: renewing cannot help, only a new launch can. The Service Worker forgets its
 * tokens on them (sw/worker/handle-request.ts, renew.ts); the embed reports `expired` and
 * mints a new preview (sw/embed/frame-messages.ts).
 */
export const SESSION_OVER_CODES: readonly ErrorCode[] = [
  'invalid_code',
  'token_expired',
  'session_revoked',
  'invalid_session',
  'invalid_token',
  'refresh_reused',
  'missing_credential',
  'share_revoked',
  'share_expired',
];

export function isSessionOver(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (SESSION_OVER_CODES as readonly string[]).includes(code);
}
