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
  /** A launch link opened in a frame that is not the page it was made for (login CSRF). */
  launch_context_mismatch: 403,
  reserved_port: 403,
  /**
   * The app's own answer forbids being framed by the host page (CSP `frame-ancestors`, or
   * `X-Frame-Options`): said by the launch page in the embed's frame (sw/page/frame-policy.ts),
   * never by the gateway; the way out is the preview in a tab of its own.
   */
  frame_refused: 403,
  port_not_allowed: 403,
  // 404
  not_found: 404,
  sandbox_not_found: 404,
  // 405: TRACE, TRACK, CONNECT are never forwarded
  method_not_allowed: 405,
  // 408: the client did not send its request in time (headers, or a body that stopped moving)
  request_timeout: 408,
  // 413
  payload_too_large: 413,
  // 431: request headers larger than the server accepts
  headers_too_large: 431,
  /** Too many requests of one kind from one user or client address; `Retry-After` says when to retry. */
  rate_limited: 429,
  /** A user's cap on live preview sessions is reached: end one (DELETE /api/previews/{id}) first. */
  too_many_sessions: 409,
  /** A user's cap on live share links is reached: revoke one (DELETE /api/shares/{id}) first. */
  too_many_shares: 409,
  /** A launch link opened in a tab the gateway cannot tie to its maker: the person must confirm. */
  confirmation_required: 409,
  // 5xx
  gateway_starting: 503,
  sandbox_stopped: 503,
  sandbox_starting: 503,
  upstream_unavailable: 502,
  /** The sandbox runs but nothing listens on the port yet (Daytona's bare 502): a dev server still starting. Retry. */
  app_not_listening: 502,
  upstream_timeout: 504,
  daytona_unavailable: 503,
  /** The shared store (Redis) is unreachable: launches, code exchanges, refreshes and shares wait for it. */
  store_unavailable: 503,
  // 501: a method the HTTP parser does not know, or an upgrade to anything but WebSocket (h2c)
  not_implemented: 501,
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
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
