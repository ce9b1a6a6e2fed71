/** The client's one error: the gateway's coded answer (protocol/errors.ts), or a network failure. */

/** A failed broker-API call. `code` is the gateway's error code, or `network_error` when no answer came. */
export class PreviewGateApiError extends Error {
  readonly code: string;
  /** HTTP status, 0 when no answer came. */
  readonly status: number;
  /** The gateway's `X-Request-Id` of the failed call (quote it when asking an operator). */
  readonly requestId: string | null;
  constructor(code: string, message: string, status: number, requestId: string | null) {
    super(message);
    this.name = 'PreviewGateApiError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/** Reads `{"error":{"code","message"}}`; anything else becomes `http_<status>`. */
export async function readApiError(res: Response): Promise<PreviewGateApiError> {
  const requestId = res.headers.get('x-request-id');
  let code = `http_${res.status}`;
  let message = `The gateway answered ${res.status}.`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    /* not JSON: keep the status */
  }
  return new PreviewGateApiError(code, message, res.status, requestId);
}
