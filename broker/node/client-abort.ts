/**
 * The Node edge's "the client went away" hook (contracts.ts AbortLike, passed as
 * ForwardMeta.clientAbort): what fetch-upstream.ts listens to instead of the client request's
 * AbortSignal. Reading that signal makes @hono/node-server build an AbortController on Node 20
 * (createAbortSignal, makeTransferable: ~3% of a small request, docs/benchmarks.md "Hot path:
 * before and after"); this is one listener on the ServerResponse's `close`.
 *
 * It aborts exactly when @hono/node-server aborts the request's signal (its close handler): the
 * response closed with the client's request errored, or before the answer was completely written.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AbortLike } from '../core/contracts.js';

/** How many upstream requests listened to the hook (tests prove the fast path is taken). */
export const clientAbortStats = { listened: 0, aborted: 0 };

export class ClientAbort implements AbortLike {
  #reason: unknown = undefined;
  #listeners: Array<() => void> | null = null;

  /** Made before the request is handled, so the response's `close` cannot be missed. */
  constructor(
    private readonly incoming: IncomingMessage,
    private readonly outgoing: ServerResponse,
  ) {
    outgoing.once('close', () => this.#closed());
  }

  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  get reason(): unknown {
    return this.#reason;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    clientAbortStats.listened++;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    const i = listeners.indexOf(listener);
    if (i >= 0) listeners.splice(i, 1);
  }

  #closed(): void {
    if (this.incoming.errored) this.#reason = new DOMException(String(this.incoming.errored), 'AbortError');
    else if (!this.outgoing.writableFinished) this.#reason = new DOMException('Client connection prematurely closed.', 'AbortError');
    else return;
    clientAbortStats.aborted++;
    const listeners = this.#listeners;
    this.#listeners = null;
    // Each listener once (an abort happens once), as `{ once: true }` on a signal would.
    if (listeners) for (const listener of listeners) listener();
  }
}
