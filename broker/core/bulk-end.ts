/**
 * `DELETE /api/previews?userId=U` / `?sandboxId=S`: ends every preview session of a user or of
 * a sandbox at once (sign-out, account removal, sandbox deleted or handed over), answering
 * `200 {"ended": n}`. Two credentials are accepted:
 *  - the service credential `Authorization: Bearer {GATE_SERVICE_TOKEN}` (the host app's
 *    backend): any user, any sandbox;
 *  - a user session: only the caller's own sessions (`userId` absent or the caller's id;
 *    `sandboxId` narrows to the caller's sessions of that sandbox).
 * Sessions are found through the Store's slot-set indexes (limits/limits.ts: a launch claims them, a revocation frees them), so nothing scans.
 * A sandbox's index holds the sessions opened through its share links too (credentials.ts
 * `openShareSession` claims it), so ending a sandbox ends them; ending a user does not end the
 * sessions of the user's share links (a share is its own grant, ended by DELETE /api/shares/{id}):
 * test/limits/share-bulk-end.test.ts.
 */
import { GateError } from '../../protocol/index.js';
import { GW, type GateApp, type GatewayContext } from './context.js';
import { isSandboxId } from './http/host.js';
import { requestLog } from './ops.js';
import { sandboxSessionsKey, userSessionsKey } from './limits/limits.js';

function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const USER_ID = /^[A-Za-z0-9._@:+|-]{1,128}$/;

export function registerBulkEnd(app: GateApp, x: GatewayContext): void {
  const { config, store, credentials, users, clock, logger } = x;

  app.delete(`${GW}/api/previews`, async (c) => {
    const userId = c.req.query('userId');
    const sandboxId = c.req.query('sandboxId');
    if (userId !== undefined && !USER_ID.test(userId))
      throw new GateError('bad_request', 'userId must be a user id (1-128 characters of letters, digits and ._@:+|-).');
    if (sandboxId !== undefined && !isSandboxId(sandboxId)) throw new GateError('bad_request', 'sandboxId must be a sandbox id.');

    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const service = config.serviceToken !== null && bearer !== undefined && sameSecret(bearer, config.serviceToken);
    let owner: string | null = null; // null: the service credential, any owner
    if (!service) {
      const user = await users.verify(c.req.header('authorization') ?? null);
      c.set('user', user.id);
      if (userId !== undefined && userId !== user.id) {
        throw new GateError(
          'forbidden',
          "A user session can end only its own preview sessions; ending another user's needs the service credential (GATE_SERVICE_TOKEN).",
        );
      }
      owner = user.id;
    } else if (userId === undefined && sandboxId === undefined) {
      throw new GateError('bad_request', 'Name whose sessions to end: ?userId= or ?sandboxId=.');
    }

    const now = clock();
    const byUser = userId ?? owner;
    const ids = byUser !== null ? await store.listSlots(userSessionsKey(byUser), now) : await store.listSlots(sandboxSessionsKey(sandboxId!), now);
    let ended = 0;
    for (const id of ids) {
      const session = await store.getSession(id);
      if (!session) continue;
      if (owner !== null && session.userId !== owner) continue;
      if (sandboxId !== undefined && session.sandboxId !== sandboxId) continue;
      if (!(await store.isRevoked(`sid:${id}`))) {
        await credentials.revokeSession(id, session.expiresAt);
        ended++;
      }
      await store.releaseSlot(userSessionsKey(session.userId), id);
      await store.releaseSlot(sandboxSessionsKey(session.sandboxId), id);
    }
    requestLog(logger, c).info('sessions_ended', {
      by: service ? 'service' : 'user',
      ...(byUser ? { user: byUser } : {}),
      ...(sandboxId ? { sandbox: sandboxId } : {}),
      ended,
    });
    return c.json({ ended }, 200, { 'cache-control': 'no-store' });
  });
}
