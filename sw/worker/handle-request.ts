/**
 * The worker's answer to one intercepted request: attach a fresh access token, renew it first
 * when it is about to expire, and on a 401 `token_expired` renew once and retry once. When
 * there is no token, or the session turned out dead, the request goes out without the token
 * and the cookie path (or the gateway's coded error page) answers.
 */
import { isSessionOver } from '../../protocol/index.js';
import { readErrorCode } from './gate-error.js';
import { hasBody, rebuildRequest } from './attach-token.js';
import { needsRenewal, type Clock, type FetchFn, type Renewer } from './renew.js';
import type { TokenStore } from './token-store.js';

export interface HandlerDeps {
  fetch: FetchFn;
  store: TokenStore;
  renewer: Renewer;
  clock: Clock;
  /** Told when the session is found dead (e.g. to notify the open pages). */
  onDead?: (code: string) => void;
}

export function createRequestHandler(deps: HandlerDeps): (request: Request) => Promise<Response> {
  async function currentToken(): Promise<string | null> {
    let grant = await deps.store.read();
    if (!grant) return null;
    if (needsRenewal(grant, deps.clock())) {
      const result = await deps.renewer.renew(grant.accessToken);
      if (result.kind === 'renewed') grant = result.grant;
      else if (result.kind === 'dead') {
        deps.onDead?.(result.code);
        return null;
      }
      // 'unavailable': keep the old token while it lasts; past expiry the cookie path answers.
      else if (grant.expiresAt <= deps.clock()) return null;
    }
    return grant.accessToken;
  }

  return async function handle(request: Request): Promise<Response> {
    const token = await currentToken();
    if (token === null) return deps.fetch(request);
    // Keep the body before the first attempt so the retry can send it again.
    const body = hasBody(request.method) ? await request.arrayBuffer() : null;
    let response: Response;
    try {
      response = await deps.fetch(rebuildRequest(request, body, token));
    } catch (err) {
      // A same-origin request that redirected to another origin fails here by design (the
      // token must not follow it); let the browser's own request take it, without a token.
      // Only safe methods are repeated: a network error after a POST was sent must not send it twice.
      if (request.signal.aborted || hasBody(request.method)) throw err;
      return deps.fetch(rebuildRequest(request, body, null)).catch(() => {
        throw err;
      });
    }
    if (response.status !== 401) return response;
    const code = await readErrorCode(response);
    if (code === 'token_expired') {
      const result = await deps.renewer.renew(token);
      if (result.kind === 'renewed') return deps.fetch(rebuildRequest(request, body, result.grant.accessToken));
      if (result.kind === 'dead') deps.onDead?.(result.code);
      return deps.fetch(rebuildRequest(request, body, null));
    }
    if (isSessionOver(code)) {
      // The token is dead; the cookie may still be good (or the gateway answers the coded page).
      await deps.store.clear();
      deps.onDead?.(code);
      return deps.fetch(rebuildRequest(request, body, null));
    }
    return response;
  };
}
