/**
 * What a host app and a program do against gateway processes over real sockets: mint a user
 * session, create a preview (broker API), exchange its launch code, refresh, share. Each call
 * names the port it goes to, so a test can pick an instance or the load balancer in front.
 */
import { SignJWT } from 'jose';
import { GATE_PATHS, type TokenGrant } from '../../../protocol/index.js';
import { cookieHeaderOf, rawRequest, type PreviewRequestInit, type StackResponse } from '../../support/stack.js';

export const PREVIEW_DOMAIN = 'preview.localhost';

export function previewHost(sandboxId: string, port: number, publicPort: number): string {
  return `${port}-${sandboxId}.${PREVIEW_DOMAIN}:${publicPort}`;
}

export function previewOrigin(sandboxId: string, port: number, publicPort: number): string {
  return `http://${previewHost(sandboxId, port, publicPort)}`;
}

export async function mintUserSession(secret: string, userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(secret));
}

/** A client of the gateway fleet reached on `port` (one instance, or the balancer), whose public port is `publicPort`. */
export function fleetClient(port: number, publicPort = port) {
  const gateway = (path: string, init?: PreviewRequestInit): Promise<StackResponse> => rawRequest(port, `127.0.0.1:${publicPort}`, path, init);
  const preview = (sandboxId: string, sbxPort: number, path: string, init?: PreviewRequestInit): Promise<StackResponse> =>
    rawRequest(port, previewHost(sandboxId, sbxPort, publicPort), path, init);
  return {
    gateway,
    preview,
    /** POST /api/previews → the launch code (not yet exchanged) and the session id. */
    async createPreview(session: string, sandboxId: string, sbxPort: number, hostOrigin?: string): Promise<{ code: string; sessionId: string; url: string }> {
      const res = await gateway('/api/previews', {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        // hostOrigin: the page that will open the link (login-CSRF binding, broker/core/limits/launch-binding.ts).
        body: JSON.stringify({ sandboxId, port: sbxPort, ...(hostOrigin ? { hostOrigin } : {}) }),
      });
      if (res.status !== 201) throw new Error(`POST /api/previews answered ${res.status} ${res.text}`);
      const { url, sessionId } = res.json<{ url: string; sessionId: string }>();
      return { code: new URLSearchParams(new URL(url).hash.slice(1)).get('code')!, sessionId, url };
    },
    exchange(sandboxId: string, sbxPort: number, code: string): Promise<StackResponse> {
      return preview(sandboxId, sbxPort, GATE_PATHS.session, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: previewOrigin(sandboxId, sbxPort, publicPort) },
        body: JSON.stringify({ code }),
      });
    },
    refresh(sandboxId: string, sbxPort: number, refreshToken: string): Promise<StackResponse> {
      return preview(sandboxId, sbxPort, GATE_PATHS.refresh, {
        method: 'POST',
        headers: { authorization: `Bearer ${refreshToken}`, origin: previewOrigin(sandboxId, sbxPort, publicPort) },
      });
    },
    /** Creates a preview and exchanges its code on the same port: the grant and cookies. */
    async launch(session: string, sandboxId: string, sbxPort: number) {
      const { code, sessionId } = await this.createPreview(session, sandboxId, sbxPort);
      const res = await this.exchange(sandboxId, sbxPort, code);
      if (res.status !== 200) throw new Error(`POST /__gate/session answered ${res.status} ${res.text}`);
      return { grant: res.json<TokenGrant & { sessionId: string }>(), cookieHeader: cookieHeaderOf(res.setCookies), sessionId };
    },
  };
}
