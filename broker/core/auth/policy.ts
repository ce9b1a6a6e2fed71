/** Who may preview which sandbox port. */
import type { SandboxInfo } from '../contracts.js';
import type { User } from './user-session.js';

/** The authorisation hook: return true to allow `user` to preview `port` of `sandbox`. */
export type PreviewPolicy = (user: User, sandbox: SandboxInfo, port: number) => boolean | Promise<boolean>;

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
  const ids = label.split(',').map((s) => s.trim()).filter(Boolean);
  return ids.includes('*') || ids.includes(user.id);
};
