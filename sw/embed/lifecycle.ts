/**
 * The embed's state machine: where one mounted preview stands, as one explicit value instead of
 * a handful of flags. Transitions (embed-mount.ts drives them):
 *
 *   (mint answered) ─────────────→ loading        the frame has the launch URL
 *   loading ── `launched` ───────→ starting-app   the next frame load is the app
 *   starting-app ── frame load ──→ live           `ready` is dispatched (after READY_SETTLE_MS without
 *                                                 a `waiting`/`error` report from the loaded page)
 *   starting-app/live ─ `waiting`→ waiting        `waiting` dispatched: the app is not up yet
 *   waiting ── frame load ───────→ live           the waiting page turned into the app: `ready`
 *   any live phase ── `error` ───→ failed         (not a session end) one `relaunch` may follow
 *   any live phase ── session end→ ended          `expired` dispatched, once per session; after
 *                                                 revoke() the frame is emptied and the ended
 *                                                 panel shown (no relaunch)
 *   ended ── frame `error` ──────→ ended          (already reported) its button may relaunch once
 *   failed/ended ── `relaunch` ──→ same phase, relaunchable: false
 *   any ── destroy() ────────────→ destroyed      final
 *
 * `relaunchable` is the failure page's button: honoured once per reported error. Every relaunch,
 * automatic or asked for, also takes one from the per-minute budget (`createRelaunchBudget`).
 */

export type Phase =
  | { name: 'idle' }
  | { name: 'loading' }
  | { name: 'starting-app' }
  | { name: 'waiting' }
  | { name: 'live' }
  | { name: 'failed'; relaunchable: boolean }
  | { name: 'ended'; relaunchable: boolean }
  | { name: 'destroyed' };

/** Whether a `relaunch` request from the frame may be honoured now. */
export function mayRelaunchOnRequest(phase: Phase): boolean {
  return (phase.name === 'failed' || phase.name === 'ended') && phase.relaunchable;
}

/** The same phase with the button's one relaunch used (or offered). */
export function withRelaunchable(phase: Phase, relaunchable: boolean): Phase {
  return phase.name === 'failed' || phase.name === 'ended' ? { name: phase.name, relaunchable } : phase;
}

/** The state a host app reads (`handle.state`): the phase without its bookkeeping. */
export type PreviewState = 'idle' | 'loading' | 'waiting' | 'live' | 'failed' | 'ended' | 'destroyed';

export function stateOf(phase: Phase): PreviewState {
  return phase.name === 'starting-app' ? 'loading' : phase.name;
}

/**
 * How long after the frame's `load` the embed waits for the loaded page to report a waiting
 * page or an error before it says `ready`: the page's report (posted by its script before its
 * `load`) and the iframe's `load` event reach the host page by separate routes, so either may
 * come first (Chromium: the load; Firefox: the report, and then its load is not the app's:
 * embed-mount.ts `ownLoadPending`); `ready` must never be said of a page that is not the app.
 */
export const READY_SETTLE_MS = 300;

/**
 * No more than this many relaunches per minute, automatic or asked for by the frame: a broken
 * setup must not loop, and the app in the frame must not make the host mint sessions at will.
 */
export const MAX_AUTO_RELAUNCH_PER_MINUTE = 3;

/** Takes one relaunch from a sliding one-minute allowance; false when it is spent. */
export function createRelaunchBudget(perMinute = MAX_AUTO_RELAUNCH_PER_MINUTE): { take(): boolean } {
  const taken: number[] = [];
  return {
    take() {
      const now = Date.now();
      while (taken.length && taken[0]! < now - 60_000) taken.shift();
      if (taken.length >= perMinute) return false;
      taken.push(now);
      return true;
    },
  };
}
