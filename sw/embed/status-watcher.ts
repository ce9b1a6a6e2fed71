/**
 * The session status check (ARCHITECTURE.md flow 11, step 6): from the frame's `launched` report
 * on, ask the gateway every `intervalMs` whether the preview session still lives, so the host
 * app hears of a revocation done elsewhere without waiting for the frame's next navigation.
 * Paused while the page is hidden, asked at once when it is shown again. Network errors and
 * unexpected answers say nothing (the next tick asks again).
 */
import type { ErrorCode } from '../../protocol/index.js';
import type { SessionState } from './gateway-client.js';

/** Default period of the session status check (GET /api/previews/{id}). */
export const DEFAULT_STATUS_INTERVAL_MS = 30_000;
/** Shortest period of the status check the embed accepts. */
export const MIN_STATUS_INTERVAL_MS = 100;

/** `statusIntervalMs` as used: default when absent or not a number, 0 = off, else at least the minimum. */
export function statusInterval(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) return DEFAULT_STATUS_INTERVAL_MS;
  if (value <= 0 || value === Infinity) return 0;
  return Math.min(Math.max(MIN_STATUS_INTERVAL_MS, value), 2 ** 31 - 1);
}

/** The `state` of GET /api/previews/{id} as an `expired` event's code, or null while the session lives. */
export function endedCode(state: unknown): ErrorCode | null {
  if (state === 'revoked') return 'session_revoked';
  if (state === 'expired') return 'invalid_session';
  return null;
}

export interface StatusWatcher {
  /** Starts watching `sessionId` (a no-op when off or already watching one). */
  watch(sessionId: string): void;
  /** Stops watching; an answer still on its way is dropped. */
  stop(): void;
  /** Stops and lets go of the page (visibility listener). */
  destroy(): void;
}

/** One watch: the session, whether it was seen active (a later 404 then means gone), its timer. */
interface Run {
  sessionId: string;
  seenActive: boolean;
  checking: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export function createStatusWatcher(o: {
  intervalMs: number;
  sessionState(sessionId: string): Promise<SessionState>;
  /** The session is over: called once per watch, after which the watch has stopped. */
  onEnded(code: ErrorCode, message: string): void;
}): StatusWatcher {
  let run: Run | null = null;

  function schedule(r: Run): void {
    clearTimeout(r.timer);
    r.timer = undefined;
    if (run !== r || document.visibilityState === 'hidden') return;
    r.timer = setTimeout(() => void check(r), o.intervalMs);
  }

  async function check(r: Run): Promise<void> {
    if (run !== r || r.checking) return;
    r.checking = true;
    clearTimeout(r.timer);
    let state: SessionState = null;
    try {
      state = await o.sessionState(r.sessionId);
    } catch {
      /* network error or unreadable answer: no event, the next tick asks again */
    } finally {
      r.checking = false;
    }
    if (run !== r) return;
    if (state === 'active') r.seenActive = true;
    // Unknown session: gone (the store forgets a session at its end) once it was seen active;
    // before that, a gateway without this endpoint: stop asking.
    if (state === 'unknown' && !r.seenActive) return stop();
    const code = endedCode(state === 'unknown' ? 'expired' : state);
    if (code) {
      stop();
      return o.onEnded(code, code === 'session_revoked' ? 'The preview session was ended.' : 'The preview session reached its end.');
    }
    schedule(r);
  }

  function stop(): void {
    if (run) clearTimeout(run.timer);
    run = null;
  }

  function onVisibility(): void {
    if (!run) return;
    if (document.visibilityState === 'hidden') {
      clearTimeout(run.timer);
      run.timer = undefined;
    } else void check(run);
  }
  document.addEventListener('visibilitychange', onVisibility);

  return {
    watch(sessionId) {
      if (!o.intervalMs || run) return;
      run = { sessionId, seenActive: false, checking: false, timer: undefined };
      schedule(run);
    },
    stop,
    destroy() {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
