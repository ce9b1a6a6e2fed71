/** Reads a gateway error answer `{"error":{"code","message"}}`, whatever the endpoint (protocol/error-answer.ts). */
import { readErrorAnswer } from '../../protocol/index.js';
import type { PageErrorCode } from './messages.js';

/**
 * The coded error of a failed answer. A body that is not the gateway's (a proxy in the way, an
 * unrelated page) becomes `fallback401` for a 401 and `internal` otherwise.
 */
export async function readGateError(response: Response, fallback401: PageErrorCode): Promise<{ code: PageErrorCode; message: string }> {
  const body = await response.text().catch(() => '');
  const parts = { status: response.status, contentType: response.headers.get('content-type'), wwwAuthenticate: response.headers.get('www-authenticate'), body };
  return readErrorAnswer(parts) ?? { code: response.status === 401 ? fallback401 : 'internal', message: `HTTP ${response.status}` };
}
