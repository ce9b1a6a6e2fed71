/**
 * `preview-gate/client`: a small typed client of the broker API for host-app BACKENDS (and
 * scripts). Fetch-based, no `node:` import: it runs in Node >= 20, Deno, Bun and edge runtimes.
 * Every user call carries that user's session JWT (`Authorization: Bearer`, the same JWT the
 * gateway verifies with GATE_USER_JWT_SECRET or GATE_USER_JWKS_URL); the bulk "end every
 * preview session of a user / a sandbox" calls carry the service credential (GATE_SERVICE_TOKEN).
 * The routes are documented in docs/interface.md.
 *
 * @example
 * import { createPreviewGateClient } from 'preview-gate/client';
 * const gate = createPreviewGateClient({ gatewayUrl: 'https://gate.example.com' });
 * const { url } = await gate.launch({ session: userJwt, sandboxId, port: 3000, path: '/' });
 * const share = await gate.createShare({ session: userJwt, sandboxId, port: 3000, ttlSeconds: 3600 });
 */
import { PreviewGateApiError, readApiError } from './errors.js';

export { PreviewGateApiError } from './errors.js';

export interface PreviewGateClientOptions {
  /** The gateway's own origin, e.g. `https://gate.example.com`. */
  gatewayUrl: string;
  /** Default: the global `fetch`. */
  fetch?: (input: Request) => Promise<Response>;
  /** GATE_SERVICE_TOKEN, for `endUserSessions` / `endSandboxSessions` only. */
  serviceToken?: string;
  /** Sent as `X-Request-Id` on every call when given (one id per call: return a fresh one). */
  requestId?: () => string;
}

/** The user session of the user the call acts for. */
export interface AsUser {
  /** The host app's user-session JWT. */
  session: string;
}

export interface PreviewTarget {
  sandboxId: string;
  port: number;
}

export interface Launch {
  /** The launch URL: open it (top level) or frame it; the one-time code rides in its fragment. */
  url: string;
  sessionId: string;
  /** When the launch code expires (ms since epoch; at most 60 s). */
  expiresAt: number;
  /** The preview origin `{port}-{sandboxId}.{previewDomain}`. */
  origin: string;
  /** When the preview session ends at the latest (ms since epoch). */
  sessionExpiresAt: number;
}

export interface PreviewStatus {
  sessionId: string;
  sandboxId: string;
  port: number;
  origin: string;
  state: 'active' | 'expired' | 'revoked';
  expiresAt: number;
}

export interface Share {
  id: string;
  sandboxId: string;
  port: number;
  path: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
  useCount: number;
}

export interface CreatedShare {
  id: string;
  /** The share link: anyone holding it sees the preview until it expires or is revoked. */
  url: string;
  expiresAt: number;
}

export interface PreviewGateClient {
  /** POST /api/previews: a launch URL for the user. */
  launch(o: AsUser & PreviewTarget & { path?: string }): Promise<Launch>;
  /** GET /api/previews/{sessionId}: whether the user's preview session still lives. */
  preview(o: AsUser & { sessionId: string }): Promise<PreviewStatus>;
  /** DELETE /api/previews/{sessionId}: ends one preview session of the user. */
  endPreview(o: AsUser & { sessionId: string }): Promise<void>;
  /** POST /api/shares: a share link (ttlSeconds within the gateway's bounds, default 60 .. 30 days). */
  createShare(o: AsUser & PreviewTarget & { ttlSeconds: number; path?: string }): Promise<CreatedShare>;
  /** GET /api/shares: the user's share links, optionally of one sandbox. */
  listShares(o: AsUser & { sandboxId?: string }): Promise<Share[]>;
  /** DELETE /api/shares/{id}: revokes one of the user's share links. */
  revokeShare(o: AsUser & { id: string }): Promise<void>;
  /** DELETE /api/previews?userId=: ends every preview session of a user (service credential). Returns how many. */
  endUserSessions(o: { userId: string }): Promise<number>;
  /** DELETE /api/previews?sandboxId=: ends every preview session of a sandbox (service credential). Returns how many. */
  endSandboxSessions(o: { sandboxId: string }): Promise<number>;
}

/**
 * @example
 * const gate = createPreviewGateClient({ gatewayUrl: process.env.GATEWAY_URL!, serviceToken: process.env.GATE_SERVICE_TOKEN });
 * await gate.endUserSessions({ userId: 'ana' }); // on sign-out
 */
export function createPreviewGateClient(options: PreviewGateClientOptions): PreviewGateClient {
  let base: URL;
  try {
    base = new URL(options.gatewayUrl);
  } catch {
    throw new TypeError(`preview-gate client: gatewayUrl must be an absolute URL like https://gate.example.com; got "${options.gatewayUrl}"`);
  }
  const origin = base.origin;
  const doFetch = options.fetch ?? ((req: Request) => fetch(req));

  async function call<T>(method: string, path: string, bearer: string | undefined, body?: unknown): Promise<T> {
    if (!bearer) throw new TypeError(`preview-gate client: ${method} ${path.split('?')[0]} needs a credential (session or serviceToken)`);
    const headers = new Headers({ authorization: `Bearer ${bearer}`, accept: 'application/json' });
    if (body !== undefined) headers.set('content-type', 'application/json');
    const rid = options.requestId?.();
    if (rid) headers.set('x-request-id', rid);
    let res: Response;
    try {
      res = await doFetch(new Request(origin + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));
    } catch (err) {
      throw new PreviewGateApiError(
        'network_error',
        `The gateway at ${origin} could not be reached: ${err instanceof Error ? err.message : String(err)}`,
        0,
        null,
      );
    }
    if (!res.ok) throw await readApiError(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
  const id = (v: string) => encodeURIComponent(v);

  return {
    launch: ({ session, sandboxId, port, path }) =>
      call<Launch>('POST', '/api/previews', session, { sandboxId, port, ...(path !== undefined ? { path } : {}) }),
    preview: ({ session, sessionId }) => call<PreviewStatus>('GET', `/api/previews/${id(sessionId)}`, session),
    endPreview: ({ session, sessionId }) => call<void>('DELETE', `/api/previews/${id(sessionId)}`, session),
    createShare: ({ session, sandboxId, port, ttlSeconds, path }) =>
      call<CreatedShare>('POST', '/api/shares', session, { sandboxId, port, ttlSeconds, ...(path !== undefined ? { path } : {}) }),
    listShares: async ({ session, sandboxId }) =>
      (await call<{ shares: Share[] }>('GET', `/api/shares${sandboxId !== undefined ? `?sandboxId=${id(sandboxId)}` : ''}`, session)).shares,
    revokeShare: ({ session, id: shareId }) => call<void>('DELETE', `/api/shares/${id(shareId)}`, session),
    endUserSessions: async ({ userId }) => (await call<{ ended: number }>('DELETE', `/api/previews?userId=${id(userId)}`, options.serviceToken)).ended,
    endSandboxSessions: async ({ sandboxId }) =>
      (await call<{ ended: number }>('DELETE', `/api/previews?sandboxId=${id(sandboxId)}`, options.serviceToken)).ended,
  };
}
