/**
 * The worker's view of a gateway error answer: the code only, read by the one reader of
 * protocol/error-answer.ts (JSON, the HTML page's `data-gate-code`, or `WWW-Authenticate`).
 */
import { type ErrorCode, readErrorAnswer } from '../../protocol/index.js';

/** The answer's code, or undefined when it names none; `response` stays readable (a clone is read). */
export async function readErrorCode(response: Response): Promise<ErrorCode | undefined> {
  const body = await response
    .clone()
    .text()
    .catch(() => '');
  const parts = { status: response.status, contentType: response.headers.get('content-type'), wwwAuthenticate: response.headers.get('www-authenticate'), body };
  return readErrorAnswer(parts)?.code;
}
