/**
 * For tests of the upstream side alone (createUpstream, the SDK port, the node:http fetch) with
 * no gateway in front; use test/support/stack.ts for the whole gateway over sockets, and
 * test/gateway/helpers.ts for the gateway's logic with fakes. Shared setup of the upstream tests: the Daytona emulator (real sockets), the real SDK through
 * createDaytonaPort, the node:http fetch, and createUpstream. Each test file starts its own.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../../demo/emulator/index.js';
import type { Metrics, Principal } from '../../../broker/core/contracts.js';
import { createUpstream, type GateUpstream, type UpstreamDeps } from '../../../broker/core/upstream/index.js';
import { createDaytonaPort, type DaytonaSdkPort } from '../../../broker/node/daytona-sdk.js';
import { createNodeFetch, type NodeFetch } from '../../../broker/node/fetch-upstream.js';

export const PREVIEW_DOMAIN = 'preview.localhost:8787';
export const principal: Principal = { userId: 'u1', sessionId: 's1', kind: 'session' };
export const previewOrigin = (t: { sandboxId: string; port: number }) => `http://${t.port}-${t.sandboxId}.${PREVIEW_DOMAIN}`;

export interface RecordingMetrics extends Metrics {
  counts: Map<string, number>;
  count(name: string, labels?: Record<string, string>): number;
}

export function recordingMetrics(): RecordingMetrics {
  const counts = new Map<string, number>();
  const key = (name: string, labels?: Record<string, string>) => `${name}${labels ? JSON.stringify(labels) : ''}`;
  return {
    counts,
    inc(name, labels, value = 1) {
      counts.set(key(name, labels), (counts.get(key(name, labels)) ?? 0) + value);
    },
    observe() {},
    count: (name, labels) => counts.get(key(name, labels)) ?? 0,
  };
}

export interface Rig {
  emulator: Emulator;
  daytona: DaytonaSdkPort;
  fetch: NodeFetch;
  metrics: RecordingMetrics;
  upstream: GateUpstream;
  /** A fresh upstream over the same emulator, with other options. */
  make(extra?: Partial<UpstreamDeps>): GateUpstream;
  close(): Promise<void>;
}

export async function startRig(extra: Partial<UpstreamDeps> = {}, emulatorOptions: EmulatorOptions = {}): Promise<Rig> {
  const emulator = await startEmulator({ port: 0, ...emulatorOptions });
  const daytona = createDaytonaPort({ apiUrl: emulator.apiUrl, apiKey: emulator.apiKey, target: 'us' });
  const fetch = createNodeFetch();
  const metrics = recordingMetrics();
  const make = (more: Partial<UpstreamDeps> = {}) => createUpstream({ daytona, fetch, metrics, previewOrigin, ...extra, ...more });
  return {
    emulator,
    daytona,
    fetch,
    metrics,
    upstream: make(),
    make,
    async close() {
      fetch.close();
      await daytona.close();
      await emulator.close();
    },
  };
}

/** A client request as the credentials side hands it over: on the gateway's preview origin. */
export function clientRequest(sandboxId: string, path: string, init: RequestInit & { duplex?: 'half' } = {}, port = 3000): Request {
  if (init.body instanceof ReadableStream) init.duplex = 'half';
  return new Request(previewOrigin({ sandboxId, port }) + path, init);
}

/** A tiny local app, bound to a sandbox port with emulator.bindPort(id, port, {target}). */
export async function startApp(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Everything a response exposes to a browser, as one string (status, headers, body). */
export async function exposed(response: Response): Promise<string> {
  const headers: string[] = [];
  response.headers.forEach((value, name) => headers.push(`${name}: ${value}`));
  return `${response.status}\n${headers.join('\n')}\n\n${await response.text()}`;
}
