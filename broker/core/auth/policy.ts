/** Who may preview which sandbox port. */
import type { Logger, SandboxInfo } from '../contracts.js';
import type { User } from './user-session.js';

/** What the gateway passes a policy about the request it decides: its logger (lines carry the request's `rid`). */
export interface PolicyContext {
  log?: Logger;
}

/** The authorisation hook: return true to allow `user` to preview `port` of `sandbox`. */
export type PreviewPolicy = (user: User, sandbox: SandboxInfo, port: number, context?: PolicyContext) => boolean | Promise<boolean>;

/** The Daytona label naming who may preview a sandbox: comma-separated user ids, or `*`. */
export const USERS_LABEL = 'preview-gate.users';

/**
 * The default policy: the sandbox's `preview-gate.users` label lists the user (or is `*` for
 * every signed-in user). No label: nobody, until a policy says otherwise.
 *
 * @example
 * labelPolicy({ id: 'ana', claims: {} }, { id: 's', state: 'started', public: false, labels: { 'preview-gate.users': 'ana,bo' } }, 3000); // true
 */
export const labelPolicy: PreviewPolicy = (user, sandbox) => {
  const label = sandbox.labels[USERS_LABEL];
  if (typeof label !== 'string') return false;
  const ids = label
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return ids.includes('*') || ids.includes(user.id);
};

/**
 * Why `user` was refused, with the fix when the label policy decided: which label and value
 * would open the sandbox. Names only the caller's own id, never the users the label lists.
 *
 * @example
 * denialMessage(labelPolicy, { id: 'ana', claims: {} }, 'sbx1', 3000);
 * // 'You may not preview port 3000 of sandbox sbx1: its Daytona label "preview-gate.users" does not list you. …'
 */
export function denialMessage(policy: PreviewPolicy, user: User, sandboxId: string, port: number): string {
  const base = `You may not preview port ${port} of sandbox ${sandboxId}`;
  if (policy !== labelPolicy) return `${base}: the host application's policy refused it.`;
  return `${base}: its Daytona label "${USERS_LABEL}" does not list you. The sandbox opens to you when that label contains "${user.id}" (comma-separated user ids) or "*" (every signed-in user).`;
}
