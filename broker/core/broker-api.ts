/**
 * The broker API on the gateway's own origin: user sessions in, launch URLs and share links
 * out. Every route needs the host app's user session (`Authorization: Bearer`), except the
 * demo-only session issuer.
 */
import { cors } from 'hono/cors';
import { GateError, GATE_PATHS, LAUNCH_CODE_FRAGMENT, LAUNCH_PATH_FRAGMENT, SHARE_QUERY, type PreviewTarget } from '../../protocol/index.js';
import { GW, type GateApp, type GatewayContext } from './context.js';
import { readJsonObject } from './http/body.js';
import { checkPort, isSandboxId, previewOrigin } from './http/host.js';
import type { User } from './auth/user-session.js';
import { denialMessage } from './auth/policy.js';
import type { ShareRecord } from './store/store.js';
import { randomId } from './tokens/crypto.js';
import { scopeOf, validPath } from './http/paths.js';
import { originOf, validHostOrigin } from './limits/launch-binding.js';
import { clientAddressOf } from './http/client-address.js';
import { requestLog } from './ops.js';
import type { Logger } from './contracts.js';

export { validPath } from './http/paths.js';
import { METRIC } from './metrics.js';
import { MAX_GRANT_PORTS } from './tokens/sibling-origins.js';

/**
 * `ports` of a launch (apps on several ports of one sandbox): the other ports the preview may
 * reach besides `port`, each a port number like `port`; duplicates and `port` itself are folded.
 */
function validPorts(body: Record<string, unknown>, main: number): number[] | undefined {
  const raw = body.ports;
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length > MAX_GRANT_PORTS || raw.some((p) => typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535))
    throw new GateError('bad_request', `ports must be an array of at most ${MAX_GRANT_PORTS} port numbers (integers from 1 to 65535).`);
  const ports = [...new Set([main, ...(raw as number[])])].sort((a, b) => a - b);
  return ports.length > 1 ? ports : undefined;
}

function validTarget(body: Record<string, unknown>): PreviewTarget {
  if (!isSandboxId(body.sandboxId)) throw new GateError('bad_request', 'sandboxId must be a sandbox id (letters, digits, - and _, at most 63 characters).');
  const port = body.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new GateError('bad_request', 'port must be an integer from 1 to 65535.');
  return { sandboxId: body.sandboxId, port };
}

export function registerBrokerRoutes(app: GateApp, x: GatewayContext): void {
  const { config, store, credentials, tokens, users, policy, daytona, metrics, keys, clock, limits } = x;

  if (config.allowedOrigins.length) {
    const any = config.allowedOrigins.includes('*');
    app.use(
      `${GW}/api/*`,
      cors({
        origin: (origin) => (any || config.allowedOrigins.includes(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'DELETE'],
        allowHeaders: ['Authorization', 'Content-Type'],
        maxAge: 600,
      }),
    );
  }

  const authUser = async (req: Request, set: (u: string) => void): Promise<User> => {
    const user = await users.verify(req.headers.get('authorization'));
    // `share:<id>` names share-link visitors (identity `sub`, session owner): no user may take it.
    if (user.id.startsWith('share:')) throw new GateError('invalid_token', 'User ids starting with "share:" are reserved for share-link visitors.');
    set(user.id);
    return user;
  };

  /** Checks existence and the policy; the sandbox must exist in Daytona. */
  const authorize = async (user: User, target: PreviewTarget, log: Logger): Promise<void> => {
    checkPort(config, target.port);
    const sandbox = await daytona.getSandbox(target.sandboxId);
    if (!sandbox) throw new GateError('sandbox_not_found', `Sandbox ${target.sandboxId} does not exist.`);
    if (!(await policy(user, sandbox, target.port, { log }))) throw new GateError('forbidden', denialMessage(policy, user, target.sandboxId, target.port));
  };

  // /healthz and /metrics: ops.ts (registered before these routes).
  app.get(`${GW}/.well-known/jwks.json`, (c) => c.json(keys.jwks(), 200, { 'cache-control': 'public, max-age=60' }));
  app.get(`${GW}/embed.js`, (c) => {
    const js = x.assets?.embed;
    if (js === undefined)
      return c.text('/* preview-gate: assets not built; run `npm run build` */', 503, {
        'content-type': 'text/javascript; charset=utf-8',
        'retry-after': '10',
      });
    return c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
  });

  if (config.demo && users.mintDemo) {
    // DEMO ONLY: anyone can get a session for any user id. Registered only when config.demo is true.
    app.post(`${GW}/api/demo/session`, async (c) => {
      const body = await readJsonObject(c.req.raw, config.maxApiBodyBytes);
      if (typeof body.userId !== 'string') throw new GateError('bad_request', 'userId (string) is required.');
      return c.json({ token: await users.mintDemo!(body.userId), demo: true });
    });
  }

  app.post(`${GW}/api/previews`, async (c) => {
    const log = requestLog(x.logger, c);
    await limits.take('launch', { address: clientAddressOf(c.env), log });
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    await limits.take('launch', { user: user.id, log });
    const body = await readJsonObject(c.req.raw, config.maxApiBodyBytes);
    const target = validTarget(body);
    const ports = validPorts(body, target.port);
    const path = validPath(body.path) ?? '/';
    // Login CSRF: bind the launch to the page that asked (a browser's CORS call says so in Origin).
    const hostOrigin = validHostOrigin(body.hostOrigin) ?? originOf(c.req.header('origin')) ?? undefined;
    await authorize(user, target, log);
    // Every other port is decided on its own, exactly as a launch of that port would be (port
    // rules, then the policy): one refused port refuses the whole launch, with that port's code.
    for (const port of ports ?? []) if (port !== target.port) await authorize(user, { sandboxId: target.sandboxId, port }, log);
    const origin = previewOrigin(config, target);
    const { code, session, codeExpiresAt } = await credentials.createLaunch(user.id, target, origin, path, hostOrigin, ports);
    const url = `${origin}${GATE_PATHS.launch}#${LAUNCH_CODE_FRAGMENT}=${code}&${LAUNCH_PATH_FRAGMENT}=${encodeURIComponent(path)}`;
    metrics.inc(METRIC.tokensIssued, { type: 'launch_code' });
    const grantedOrigins = session.ports
      ? {
          ports: session.ports,
          origins: Object.fromEntries(session.ports.map((p) => [String(p), previewOrigin(config, { sandboxId: target.sandboxId, port: p })])),
        }
      : {};
    return c.json({ url, sessionId: session.id, expiresAt: codeExpiresAt, origin, sessionExpiresAt: session.expiresAt, ...grantedOrigins }, 201, {
      'cache-control': 'no-store',
    });
  });

  // The embed polls this to learn promptly that its preview session ended (flow 6). A session
  // the store has already forgotten (past its end: records expire with it) is a 404 like an
  // unknown id; `expired` is what a store that still holds it past its end says.
  app.get(`${GW}/api/previews/:sessionId`, async (c) => {
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    const session = await store.getSession(c.req.param('sessionId'));
    if (!session) throw new GateError('not_found', 'No such preview session (it may have ended already).');
    if (session.userId !== user.id) throw new GateError('forbidden', 'Only the user who opened a preview session can see it.');
    const state = session.expiresAt <= clock() ? 'expired' : (await store.isRevoked(`sid:${session.id}`)) ? 'revoked' : 'active';
    return c.json(
      {
        sessionId: session.id,
        sandboxId: session.sandboxId,
        port: session.port,
        origin: session.origin,
        state,
        expiresAt: session.expiresAt,
        ...(session.ports ? { ports: session.ports } : {}),
      },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  app.delete(`${GW}/api/previews/:sessionId`, async (c) => {
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    const session = await store.getSession(c.req.param('sessionId'));
    if (!session) throw new GateError('not_found', 'No such preview session (it may have ended already).');
    if (session.userId !== user.id) throw new GateError('forbidden', 'Only the user who opened a preview session can end it.');
    await credentials.revokeSession(session.id, session.expiresAt);
    requestLog(x.logger, c).info('session_revoked', { sid: session.id, user: user.id });
    return c.body(null, 204);
  });

  app.post(`${GW}/api/shares`, async (c) => {
    const log = requestLog(x.logger, c);
    await limits.take('share', { address: clientAddressOf(c.env), log });
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    await limits.take('share', { user: user.id, log });
    const body = await readJsonObject(c.req.raw, config.maxApiBodyBytes);
    const target = validTarget(body);
    const path = validPath(body.path);
    const ttl = body.ttlSeconds;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < config.shareTtlMinSeconds || ttl > config.shareTtlMaxSeconds) {
      throw new GateError('bad_request', `ttlSeconds must be an integer from ${config.shareTtlMinSeconds} to ${config.shareTtlMaxSeconds}.`);
    }
    await authorize(user, target, log);
    const now = clock();
    const origin = previewOrigin(config, target);
    const share: ShareRecord = {
      id: randomId(),
      creatorId: user.id,
      sandboxId: target.sandboxId,
      port: target.port,
      ...(path ? { path } : {}),
      createdAt: now,
      expiresAt: Math.floor((now + ttl * 1000) / 1000) * 1000,
      useCount: 0,
    };
    await limits.claimShare(share);
    await store.putShare(share);
    const token = await tokens.signShare(
      { aud: origin, sub: `share:${share.id}`, shr: share.id, sbx: target.sandboxId, port: target.port, ...(path ? { pth: scopeOf(path) } : {}) },
      share.expiresAt,
    );
    metrics.inc(METRIC.tokensIssued, { type: 'share' });
    const landing = path ?? '/';
    const url = `${origin}${landing}${landing.includes('?') ? '&' : '?'}${SHARE_QUERY}=${token}`;
    return c.json({ id: share.id, url, expiresAt: share.expiresAt }, 201, { 'cache-control': 'no-store' });
  });

  app.get(`${GW}/api/shares`, async (c) => {
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    const sandboxId = c.req.query('sandboxId');
    if (sandboxId !== undefined && !isSandboxId(sandboxId)) throw new GateError('bad_request', 'sandboxId must be a sandbox id.');
    const shares = (await store.listShares(user.id, sandboxId)).map((s) => ({
      id: s.id,
      sandboxId: s.sandboxId,
      port: s.port,
      path: s.path ?? null,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      revokedAt: s.revokedAt ?? null,
      lastUsedAt: s.lastUsedAt ?? null,
      useCount: s.useCount,
    }));
    return c.json({ shares }, 200, { 'cache-control': 'no-store' });
  });

  app.delete(`${GW}/api/shares/:id`, async (c) => {
    const user = await authUser(c.req.raw, (u) => c.set('user', u));
    const share = await store.getShare(c.req.param('id'));
    if (!share) throw new GateError('not_found', 'No such share link (it may have expired).');
    if (share.creatorId !== user.id) throw new GateError('forbidden', 'Only the user who created a share link can revoke it.');
    await store.revokeShare(share.id, clock());
    await store.revoke(`shr:${share.id}`, share.expiresAt);
    await limits.releaseShare(share);
    requestLog(x.logger, c).info('share_revoked', { share: share.id, user: user.id });
    return c.body(null, 204);
  });
}
