/**
 * The one error model of preview-gate, shared by the gateway and the Service Worker.
 * `code` is a closed union so callers can `switch (err.code)`; each code has exactly one HTTP
 * status. Error bodies are `{"error": {"code", "message"}}`; 401s also carry
 * `WWW-Authenticate: Bearer error="...", error_description="..."` (RFC 6750 §3).
 */

export const ERROR_STATUS = {
  // 400
  bad_request: 400,
  invalid_host: 400,
  // 401: no usable credential (each says why, so the client knows whether to renew)
  missing_credential: 401,
  invalid_token: 401,
  token_expired: 401,
  session_revoked: 401,
  invalid_session: 401,
  invalid_code: 401,
  refresh_reused: 401,
  share_expired: 401,
  share_revoked: 401,
  // 403: authenticated, not allowed
  forbidden: 403,
  wrong_scope: 403,
  origin_forbidden: 403,
  reserved_port: 403,
  port_not_allowed: 403,
  // 404
  not_found: 404,
  sandbox_not_found: 404,
  // 409 / 413 / 429
  payload_too_large: 413,
  // 5xx
  sandbox_stopped: 503,
  sandbox_starting: 503,
  upstream_unavailable: 502,
  upstream_timeout: 504,
  daytona_unavailable: 503,
  /** The host app's identity provider (GATE_USER_JWKS_URL) could not be reached: no session can be checked. */
  identity_provider_unavailable: 503,
  /** The host app's policy endpoint (GATE_POLICY_URL) failed or answered nonsense: access is refused (fail closed). */
  policy_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** RFC 6750 `error=` value for a 401 code: only `invalid_token` and `invalid_request` exist there. */
export function bearerErrorFor(code: ErrorCode): 'invalid_token' | 'invalid_request' {
  return code === 'missing_credential' ? 'invalid_request' : 'invalid_token';
}

/** Codes after which a client should renew its access token once and retry. */
export const RENEWABLE_CODES: readonly ErrorCode[] = ['token_expired'];

/** A coded error. Thrown anywhere in the gateway; turned into an HTTP answer in one place. */
export class GateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. Retry-After); never secrets. */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'GateError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = headers;
  }
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}
