/**
 * Reads the coded error out of a gateway answer: `{"error":{"code"}}` for JSON, the
 * `data-gate-code` attribute of an HTML error page, or else the `WWW-Authenticate` header
 * (RFC 6750 §3: `error="invalid_token"` is generic, so a more specific code named anywhere in
 * the header, e.g. in `error_description`, wins).
 */
import { isErrorCode, type ErrorCode } from '../../protocol/index.js';

/** Most specific first: `invalid_token` is RFC 6750's umbrella for all of them. */
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

export async function readErrorCode(response: Response): Promise<ErrorCode | undefined> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.clone().text().catch(() => '');
  if (type.includes('json')) {
    try {
      const code: unknown = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
      if (isErrorCode(code)) return code;
    } catch {
      // fall through to the header
    }
  } else {
    const fromHtml = /data-gate-code="([a-z_]+)"/.exec(text)?.[1];
    if (isErrorCode(fromHtml)) return fromHtml;
  }
  const header = response.headers.get('www-authenticate') ?? '';
  return HEADER_CODES.find((code) => new RegExp(`\\b${code}\\b`).test(header));
}

/** After these, the refresh credential is dead: forget the tokens and let the cookie path answer. */
export const DEAD_SESSION_CODES: readonly ErrorCode[] = [
  'session_revoked',
  'invalid_session',
  'refresh_reused',
  'invalid_token',
  'missing_credential',
  'share_revoked',
  'share_expired',
];
