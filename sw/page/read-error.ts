/** Reads a gateway error answer `{"error":{"code","message"}}`, whatever the endpoint. */
import { isErrorCode } from '../../protocol/index.js';
import type { PageErrorCode } from './messages.js';

/**
 * The coded error of a failed answer. A body that is not the gateway's JSON (a proxy in the
 * way, an HTML page) becomes `fallback401` for a 401 and `internal` otherwise.
 */
export async function readGateError(response: Response, fallback401: PageErrorCode): Promise<{ code: PageErrorCode; message: string }> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  const code = body?.error?.code;
  if (isErrorCode(code)) return { code, message: String(body?.error?.message ?? '') };
  return { code: response.status === 401 ? fallback401 : 'internal', message: `HTTP ${response.status}` };
}
