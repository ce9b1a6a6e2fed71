/**
 * Telling Daytona's own answers apart from the sandbox app's. Daytona's preview proxy answers
 * some requests itself (docs/daytona.md, "Answers the proxy makes itself"; Go source apps/proxy/pkg/proxy/):
 *
 * - token missing, wrong or rotated: a 307 to its identity provider's authorize URL (OIDC with
 *   PKCE: `code_challenge=`, `response_type=code`, a `pkce_verifier` cookie), never a 401;
 * - 401/403 error JSON from the proxy itself (e.g. 403 "Invalid or expired token");
 * - production's 401 `{"message":"unauthorized: authentication failed: Invalid or expired token",
 *   "code":"UNAUTHORIZED"}` for an expired signed URL;
 * - stopped sandbox: 400 "bad request: no IP address found. Is the Sandbox started?" (newer
 *   proxies: code `SANDBOX_NOT_STARTED`); archived (no runner): 400 "bad request: failed to get
 *   runner info: Sandbox with ID … does not have a runner"; gone, or moving between runners for
 *   a moment: 404 (`SANDBOX_NOT_FOUND`, "not found: sandbox container not found"); runner
 *   down: 502 (`RUNNER_UNREACHABLE`); the app port not listening (a dev server not up yet, or
 *   crashed): a bare 502, no body and no type (Go's reverse proxy default, reproduced by
 *   demo/emulator/decide.ts). Facts and sources: docs/daytona.md.
 *
 * Daytona's error JSON is `{statusCode, message, code, timestamp, path, method}` (+ `source`
 * `DAYTONA_PROXY` on newer proxies). An app can forge that shape; the consequences are bounded
 * (see link-cache.ts `minRefreshIntervalMs`) and it can only hurt its own previews.
 */
import { readUpTo } from '../streams/read-up-to.js';

export type DaytonaVerdict =
  | { kind: 'app' } // the app answered (or nothing we recognise): pass through
  | { kind: 'rejected'; redirect: boolean } // Daytona refused the token
  | { kind: 'stopped' }
  | { kind: 'gone' }
  | { kind: 'runner_unreachable' }
  | { kind: 'not_listening' }; // the bare 502: nothing listens on the port (yet)

/** Largest error body read to classify it; Daytona's error JSON is a few hundred bytes. */
export const PEEK_LIMIT = 8 * 1024;

/** The 307 Daytona sends to its identity provider when it does not accept the token. */
export function isIdentityProviderRedirect(response: Response, daytonaUrl: string): boolean {
  if (response.status !== 307) return false;
  const location = response.headers.get('location');
  if (location === null) return false;
  let target: URL;
  try {
    target = new URL(location, daytonaUrl);
  } catch {
    return false;
  }
  // A redirect that stays on the sandbox's own origin is the app's.
  if (target.origin === new URL(daytonaUrl).origin) return false;
  if (response.headers.getSetCookie().some((c) => /^\s*pkce_verifier=/i.test(c))) return true;
  if (target.searchParams.has('code_challenge') || target.searchParams.get('response_type') === 'code') return true;
  return /\/authorize\/?$/i.test(target.pathname);
}

interface DaytonaErrorJson {
  statusCode: number;
  message: string;
  code?: unknown;
  source?: unknown;
  timestamp?: unknown;
}

function parseDaytonaError(text: string, status: number): DaytonaErrorJson | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<DaytonaErrorJson>;
  // Production's answer to an expired signed URL (docs/daytona.md, "Authentication"): no
  // statusCode or timestamp, just `{message: "unauthorized: …", code: "UNAUTHORIZED"}`.
  if (status === 401 && v.statusCode === undefined && v.code === 'UNAUTHORIZED' && typeof v.message === 'string' && v.message.startsWith('unauthorized:')) {
    return v as DaytonaErrorJson;
  }
  if (v.statusCode !== status || typeof v.message !== 'string') return null;
  const fromProxy = v.source === 'DAYTONA_PROXY' || (typeof v.code === 'string' && typeof v.timestamp === 'string');
  return fromProxy ? (v as DaytonaErrorJson) : null;
}

/** Classifies an error body already read (see peekBody) for a response of `status`. */
export function classifyDaytonaError(status: number, text: string): DaytonaVerdict {
  // An empty 502 is Daytona's "nothing listens on that port". An app answering an empty 502 of
  // its own is served nothing either way; the coded answer tells the client to retry.
  if (status === 502 && text.trim() === '') return { kind: 'not_listening' };
  const error = parseDaytonaError(text, status);
  if (!error) return { kind: 'app' };
  const code = typeof error.code === 'string' ? error.code : '';
  const message = error.message.toLowerCase();
  if (status === 401 || status === 403) return { kind: 'rejected', redirect: false };
  if (
    code === 'SANDBOX_NOT_STARTED' ||
    message.includes('no ip address found') ||
    // Archived (or otherwise runner-less) sandboxes: docs/daytona.md, "States". To the user they
    // are stopped ones (a start restores them); Daytona issue #3746 shows this JSON served in
    // place of an app's JS assets when passed through.
    message.includes('failed to get runner info') ||
    message.includes('does not have a runner') ||
    message.includes('is the sandbox started') ||
    (status === 400 && (message.includes('not started') || message.includes('not running')))
  ) {
    return { kind: 'stopped' };
  }
  if (status === 404 && (code === 'SANDBOX_NOT_FOUND' || message.includes('sandbox'))) return { kind: 'gone' };
  if (status === 502 && code === 'RUNNER_UNREACHABLE') return { kind: 'runner_unreachable' };
  return { kind: 'app' };
}

/** Whether a response might be one of Daytona's error answers, so its body is worth peeking. */
export function mayBeDaytonaError(response: Response): boolean {
  const s = response.status;
  if (s !== 400 && s !== 401 && s !== 403 && s !== 404 && s !== 502) return false;
  const type = response.headers.get('content-type') ?? '';
  const length = response.headers.get('content-length');
  // The bare 502 (app port not listening): no type, no body.
  if (s === 502 && type === '') return length === null || Number(length) <= PEEK_LIMIT;
  if (!type.toLowerCase().includes('json')) return false;
  return length === null || Number(length) <= PEEK_LIMIT;
}

/**
 * Reads at most `limit` bytes of a body. Returns the text when the whole body fit, and in every
 * case a body equivalent to the original (the bytes read, then the rest, still streaming).
 */
export async function peekBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ text: string | null; body: ReadableStream<Uint8Array> | Uint8Array | null }> {
  if (body === null) return { text: '', body: null };
  const read = await readUpTo(body, limit);
  if (!read.complete) return { text: null, body: read.stream };
  return { text: new TextDecoder().decode(read.bytes), body: read.bytes };
}
