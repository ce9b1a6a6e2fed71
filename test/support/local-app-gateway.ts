/**
 * A real gateway in front of a local HTTP server standing in for a sandbox app (no emulator): a
 * Daytona port that reports one started sandbox whose port 3000 is the app, and an access token
 * for it obtained the real way (user session → launch code → `/__gate/session`). For tests that
 * need to see what reaches the app (node-direct, node-client-abort, slow-peer-memory).
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { SignJWT } from 'jose';
import { rawRequest } from './stack.js';
import { startGateway, type RunningGateway } from '../../broker/node/server.js';
import type { DaytonaPort } from '../../broker/core/contracts.js';

export interface LocalAppGateway {
  gateway: RunningGateway;
  /** The preview host of the sandbox's port 3000 on the gateway (Host header). */
  host: string;
  /** An access token for that host (X-Daytona-Preview-Token). */
  access: string;
  /** Closes the gateway and the app. */
  close(): Promise<void>;
}

/** Starts a gateway for `app` (listened on here) as sandbox `sandboxId`, port 3000. */
export async function gatewayForLocalApp(app: http.Server, sandboxId: string, secret = 'local-app-gateway-secret-local-app-01'): Promise<LocalAppGateway> {
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  const appPort = (app.address() as AddressInfo).port;
  const daytona: DaytonaPort = {
    getSandbox: async (id) => (id === sandboxId ? { id, state: 'started', labels: { 'preview-gate.users': '*' }, public: false } : null),
    getPreviewLink: async (id, port) => ({ url: `http://${port}-${id}.proxy.localhost:${appPort}`, token: 'daytona-token' }),
    startSandbox: async () => {},
  };
  const gateway = await startGateway({
    config: { userJwtSecret: secret, previewDomain: 'preview.localhost' },
    daytona,
    port: 0,
    logger: { info() {}, warn() {}, error() {} },
  });
  const close = async () => {
    await gateway.close();
    await new Promise<void>((r) => app.close(() => r()));
  };
  try {
    const session = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    const launch = await rawRequest(gateway.port, `127.0.0.1:${gateway.port}`, '/api/previews', {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sandboxId, port: 3000 }),
    });
    if (launch.status !== 201) throw new Error(`launch answered ${launch.status}`);
    const code = new URLSearchParams(new URL(launch.json<{ url: string }>().url).hash.slice(1)).get('code')!;
    const host = `3000-${sandboxId}.preview.localhost:${gateway.port}`;
    const grant = await rawRequest(gateway.port, host, '/__gate/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `http://${host}` },
      body: JSON.stringify({ code }),
    });
    if (grant.status !== 200) throw new Error(`/__gate/session answered ${grant.status}`);
    return { gateway, host, access: grant.json<{ accessToken: string }>().accessToken, close };
  } catch (err) {
    await close();
    throw err;
  }
}
