/** The real launch flow against a running gateway: user session → launch code → access token. */
import http from 'node:http';
import { SignJWT } from 'jose';

export function post(port: number, host: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: text });
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A signed-in user of the host app (GATE_USER_JWT_SECRET), as its backend would hand it over. */
export function userSession(secret: string, user = 'bench-user'): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
}

/** `POST /api/previews`: a launch URL for port 3000 of `sandboxId` (bound to `hostOrigin` when given). */
export async function launch(o: {
  gatePort: number;
  sandboxId: string;
  session: string;
  hostOrigin?: string;
  path?: string;
}): Promise<{ url: string; code: string }> {
  const r = await post(
    o.gatePort,
    `localhost:${o.gatePort}`,
    '/api/previews',
    { sandboxId: o.sandboxId, port: 3000, ...(o.path ? { path: o.path } : {}), ...(o.hostOrigin ? { hostOrigin: o.hostOrigin } : {}) },
    { authorization: `Bearer ${o.session}` },
  );
  if (r.status !== 201) throw new Error(`launch failed: ${r.status} ${JSON.stringify(r.json)}`);
  const code = new URLSearchParams(new URL(r.json.url).hash.slice(1)).get('code');
  if (!code) throw new Error(`launch URL without a code: ${r.json.url}`);
  return { url: r.json.url, code };
}

export interface Grant {
  previewHost: string;
  accessToken: string;
  refreshToken: string;
}

/** Launches a preview of port 3000 of `sandboxId` and exchanges the code; returns the grant. */
export async function launchGrant(o: { gatePort: number; sandboxId: string; secret: string; session?: string }): Promise<Grant> {
  const session = o.session ?? (await userSession(o.secret));
  const { code } = await launch({ gatePort: o.gatePort, sandboxId: o.sandboxId, session });
  const previewHost = `3000-${o.sandboxId}.preview.localhost:${o.gatePort}`;
  const grant = await post(o.gatePort, previewHost, '/__gate/session', { code });
  if (grant.status !== 200) throw new Error(`session failed: ${grant.status} ${JSON.stringify(grant.json)}`);
  return { previewHost, accessToken: grant.json.accessToken, refreshToken: grant.json.refreshToken };
}
