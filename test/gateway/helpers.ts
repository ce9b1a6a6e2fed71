/**
 * In-process gateway with small fakes (no sockets: Daytona, the upstream side) and a clock that
 * stands still until told (test/support/clock.ts). Use it for the core's logic; use
 * test/support/stack.ts when real sockets, the emulator and the real SDK matter.
 */
import { SignJWT } from 'jose';
import { createGateway, type Gateway, type GatewayDeps } from '../../broker/core/gateway.js';
import type { GatewayConfig } from '../../broker/core/config.js';
import type { DaytonaPort, Logger, Principal, SandboxInfo, Upstream } from '../../broker/core/contracts.js';
import type { PreviewTarget } from '../../protocol/index.js';
import { movableClock, type MovableClock } from '../support/clock.js';

export const SECRET = 'test-secret-test-secret-test-secret-0123';
export const SBX = 'sbx-open';
export const SBX_ALICE = 'sbx-alice';
export const SBX_NOLABEL = 'sbx-nolabel';
export const SBX_PUBLIC = 'sbx-public';

export function fakeDaytona(extra: SandboxInfo[] = []): DaytonaPort & { calls: number } {
  const all = new Map<string, SandboxInfo>(
    [
      { id: SBX, state: 'started', labels: { 'preview-gate.users': '*' }, public: false },
      { id: 'sbx-other', state: 'started', labels: { 'preview-gate.users': '*' }, public: false },
      { id: SBX_ALICE, state: 'started', labels: { 'preview-gate.users': 'alice, carol' }, public: false },
      { id: SBX_NOLABEL, state: 'started', labels: {}, public: false },
      { id: SBX_PUBLIC, state: 'started', labels: {}, public: true },
      ...extra,
    ].map((s) => [s.id, s]),
  );
  const port = {
    calls: 0,
    async getSandbox(id: string) {
      port.calls++;
      return all.get(id) ?? null;
    },
    async getPreviewLink() {
      return { url: 'http://daytona.invalid', token: 'DAYTONA-SECRET-TOKEN' };
    },
    async startSandbox() {},
  };
  return port;
}

export interface Seen {
  request: Request;
  target: PreviewTarget;
  principal: Principal;
}

export type FakeUpstream = Upstream & { seen: Seen[]; respond: (req: Request) => Response | Promise<Response> };

export function fakeUpstream(): FakeUpstream {
  const u: FakeUpstream = {
    seen: [],
    respond: () => new Response('app says hi', { status: 200, headers: { 'content-type': 'text/plain' } }),
    async forward(request, target, principal) {
      u.seen.push({ request, target, principal });
      return u.respond(request);
    },
    async webSocketTarget(target, path) {
      return { url: `ws://daytona.invalid/${target.port}${path}`, headers: { 'x-daytona-preview-token': 'DAYTONA-SECRET-TOKEN' } };
    },
  };
  return u;
}

export interface TestGateway {
  gw: Gateway;
  upstream: FakeUpstream;
  daytona: ReturnType<typeof fakeDaytona>;
  clock: MovableClock;
  logs: { event: string; fields: Record<string, unknown> | undefined }[];
  /** `http://{port}-{id}.preview.localhost:8787` */
  origin(id?: string, port?: number): string;
  user(id: string, opts?: { ttlSeconds?: number; secret?: string }): Promise<string>;
  api(path: string, init?: RequestInit & { user?: string }): Promise<Response>;
  preview(path: string, init?: RequestInit, id?: string, port?: number): Promise<Response>;
  /** The CORS preflight a host app's page sends before POST /api/previews from `origin`. */
  preflight(origin: string): Promise<Response>;
  /** Launch + code exchange; returns the JSON grant and the cookie header. */
  launch(
    userId?: string,
    id?: string,
    port?: number,
    sessionHeaders?: Record<string, string>,
    body?: Record<string, unknown>,
  ): Promise<{ grant: any; cookies: string[]; cookie: string; sessionId: string }>;
}

export const cookiePairs = (setCookies: string[]) =>
  setCookies
    .map((c) => c.split(';', 1)[0]!)
    .filter((p) => !p.endsWith('='))
    .join('; ');

export async function makeGateway(config: Partial<GatewayConfig> = {}, deps: Partial<GatewayDeps> = {}): Promise<TestGateway> {
  const clock = movableClock(Date.UTC(2026, 0, 1));
  const logs: TestGateway['logs'] = [];
  const logger: Logger = {
    info: (event, fields) => logs.push({ event, fields }),
    warn: (event, fields) => logs.push({ event, fields }),
    error: (event, fields) => logs.push({ event, fields }),
  };
  const upstream = fakeUpstream();
  const daytona = fakeDaytona();
  const gw = await createGateway(
    { userJwtSecret: SECRET, publicPort: 8787, ...config },
    { upstream, daytona, clock: clock.now, logger, assets: { serviceWorker: '/*sw*/', bootstrap: '/*boot*/', embed: '/*embed*/' }, ...deps },
  );
  const origin = (id = SBX, port = 3000) => `http://${port}-${id}.preview.localhost:8787`;
  const t: TestGateway = {
    gw,
    upstream,
    daytona,
    clock,
    logs,
    origin,
    async user(id, o = {}) {
      const now = Math.floor(clock.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(id)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.ttlSeconds ?? 3600))
        .sign(new TextEncoder().encode(o.secret ?? SECRET));
    },
    async api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.user) headers.set('authorization', `Bearer ${await t.user(init.user)}`);
      if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return gw.fetch(new Request(`http://127.0.0.1:8787${path}`, { ...init, headers }));
    },
    preview(path, init = {}, id = SBX, port = 3000) {
      return gw.fetch(new Request(origin(id, port) + path, init));
    },
    preflight(requestOrigin) {
      return t.api('/api/previews', {
        method: 'OPTIONS',
        headers: { origin: requestOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    },
    async launch(userId = 'bob', id = SBX, port = 3000, sessionHeaders = {}, body = {}) {
      const res = await t.api('/api/previews', { method: 'POST', user: userId, body: JSON.stringify({ sandboxId: id, port }) });
      if (res.status !== 201) throw new Error(`launch ${res.status} ${await res.text()}`);
      const { url, sessionId } = (await res.json()) as { url: string; sessionId: string };
      const code = new URLSearchParams(new URL(url).hash.slice(1)).get('code');
      const ex = await t.preview(
        '/__gate/session',
        { method: 'POST', headers: { 'content-type': 'application/json', ...sessionHeaders }, body: JSON.stringify({ code, ...body }) },
        id,
        port,
      );
      if (ex.status !== 200) throw new Error(`exchange ${ex.status} ${await ex.text()}`);
      const cookies = ex.headers.getSetCookie();
      return { grant: await ex.json(), cookies, cookie: cookiePairs(cookies), sessionId };
    },
  };
  return t;
}
