/**
 * The embed's calls to the gateway's broker API, from the host app's page: cross-origin (CORS
 * for `GATE_ALLOWED_ORIGINS`), `credentials: 'omit'` (the host's user session travels only as
 * `Authorization: Bearer`, asked fresh from `getSession()` for every call), never cached.
 */
import type { PageErrorCode } from '../page/messages.js';
import { readGateError } from '../page/read-error.js';

/** POST /api/previews answer; `expiresAt` is the launch code's, `sessionExpiresAt` the session's end. */
export interface Minted {
  url: string;
  sessionId: string;
  expiresAt: number;
  sessionExpiresAt?: number;
}

/**
 * What GET /api/previews/{id} says: its `state` (`active`, `revoked`, `expired`), `unknown` for a
 * coded 404 `not_found` (the store forgot the session, or a gateway without the endpoint), or
 * null for any other answer (no news).
 */
export type SessionState = 'active' | 'revoked' | 'expired' | 'unknown' | null;

export class PreviewGateError extends Error {
  constructor(
    readonly code: PageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PreviewGateError';
  }
}

export interface GatewayClient {
  /** Mints a preview session and its launch URL (POST /api/previews). Throws a PreviewGateError. */
  mint(target: { sandboxId: string; port: number; ports?: readonly number[] | undefined; path?: string | undefined }): Promise<Minted>;
  /** The session's state; throws on a network error. */
  sessionState(sessionId: string): Promise<SessionState>;
  /** Ends the session (DELETE /api/previews/{id}); an unknown session is already ended. Throws a PreviewGateError. */
  revoke(sessionId: string): Promise<void>;
}

export function createGatewayClient(gateway: string, getSession: () => Promise<string>): GatewayClient {
  /** The one way the embed calls the gateway. */
  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
    const session = await getSession();
    const headers: Record<string, string> = { authorization: `Bearer ${session}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${gateway}${path}`, {
      method,
      mode: 'cors',
      credentials: 'omit',
      cache: 'no-store',
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }
  const failure = async (response: Response) => {
    const { code, message } = await readGateError(response, 'missing_credential');
    return new PreviewGateError(code, message);
  };
  const sessionPath = (id: string) => `/api/previews/${encodeURIComponent(id)}`;
  /** A coded `origin_forbidden` naming this page's origin when the gateway refuses it, else null. */
  const originRefusal = async (): Promise<PreviewGateError | null> => {
    try {
      const r = await fetch(`${gateway}/api/cors-check`, { mode: 'cors', credentials: 'omit', cache: 'no-store' });
      const verdict = (await r.json()) as { allowed?: unknown; error?: { code?: unknown; message?: unknown } } | null;
      if (verdict?.allowed !== false || verdict.error?.code !== 'origin_forbidden') return null;
      return new PreviewGateError('origin_forbidden', String(verdict.error.message ?? '').slice(0, 300));
    } catch {
      return null; // the gateway itself is unreachable: a network error it is
    }
  };

  return {
    async mint({ sandboxId, port, ports, path }) {
      let response: Response;
      try {
        // `ports` is sent as given: the gateway checks it (400 `bad_request` for a bad list).
        const several = ports && ports.length > 0 ? { ports: [...ports] } : {};
        response = await call('POST', '/api/previews', { sandboxId, port, ...several, ...(path ? { path } : {}) });
      } catch (err) {
        // The browser says only "Failed to fetch"; the usual cause is this page's origin missing
        // from GATE_ALLOWED_ORIGINS, which the gateway's /api/cors-check can say (broker/core/ops.ts).
        throw (await originRefusal()) ?? err;
      }
      if (!response.ok) throw await failure(response);
      return (await response.json()) as Minted;
    },
    async sessionState(sessionId) {
      const response = await call('GET', sessionPath(sessionId));
      if (response.ok) {
        const state = ((await response.json()) as { state?: unknown } | null)?.state;
        return state === 'active' || state === 'revoked' || state === 'expired' ? state : null;
      }
      if (response.status === 404 && (await readGateError(response, 'not_found')).code === 'not_found') return 'unknown';
      return null;
    },
    async revoke(sessionId) {
      const response = await call('DELETE', sessionPath(sessionId));
      if (!response.ok && response.status !== 404) throw await failure(response);
    },
  };
}
