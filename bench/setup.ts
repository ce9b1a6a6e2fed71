/** The real launch flow against a running gateway: user session → launch code → access token. */
import http from 'node:http';
import { SignJWT } from 'jose';

export function post(port: number, host: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Launches a preview of port 3000 of `sandboxId` and exchanges the code; returns the grant. */
export async function launchGrant(o: { gatePort: number; sandboxId: string; secret: string }): Promise<{ previewHost: string; accessToken: string }> {
  const session = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(o.secret));
  const launch = await post(
    o.gatePort,
    `localhost:${o.gatePort}`,
    '/api/previews',
    { sandboxId: o.sandboxId, port: 3000 },
    { authorization: `Bearer ${session}` },
  );
  if (launch.status !== 201) throw new Error(`launch failed: ${launch.status} ${JSON.stringify(launch.json)}`);
  const code = new URLSearchParams(new URL(launch.json.url).hash.slice(1)).get('code');
  const previewHost = `3000-${o.sandboxId}.preview.localhost:${o.gatePort}`;
  const grant = await post(o.gatePort, previewHost, '/__gate/session', { code });
  if (grant.status !== 200) throw new Error(`session failed: ${grant.status}`);
  return { previewHost, accessToken: grant.json.accessToken };
}
