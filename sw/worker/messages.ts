/**
 * Messages between the pages of a preview origin and its Service Worker (same origin only).
 * Tokens never travel in messages: the bootstrap writes them to IndexedDB and only says so.
 */

/** Page → worker: a new grant is in IndexedDB; drop the memory copy. Replies on a transferred port, if any. */
export const TOKENS_CHANGED = 'preview-gate:tokens-changed';
/** Page → worker: forget the tokens (e.g. the person chose the cookie path). */
export const TOKENS_CLEAR = 'preview-gate:tokens-clear';
/** Worker → its window clients: the session is dead; `code` says why. */
export const SESSION_DEAD = 'preview-gate:session-dead';

export interface WorkerMessage {
  type: typeof TOKENS_CHANGED | typeof TOKENS_CLEAR;
}

export interface SessionDeadMessage {
  type: typeof SESSION_DEAD;
  code: string;
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === TOKENS_CHANGED || type === TOKENS_CLEAR;
}
