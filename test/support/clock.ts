/**
 * The one movable clock of the tests (pass `clock.now` as the gateway's `clock`): `movableClock()`
 * follows real time plus whatever `advance` added (for stacks with real sockets, the emulator and
 * browsers); `movableClock(start)` stands still at `start` and moves only when told (for the
 * in-process gateway of test/gateway/helpers.ts, so expiry arithmetic is exact).
 */
export interface MovableClock {
  /** Milliseconds since the epoch, as the gateway sees them. Safe to pass unbound. */
  now(): number;
  /** Moves the clock by `ms` (negative moves it back). */
  advance(ms: number): void;
  /** Puts the clock at `ms` exactly. */
  set(ms: number): void;
}

export function movableClock(start?: number): MovableClock {
  const base = start === undefined ? () => Date.now() : () => start;
  let offset = 0;
  return {
    now: () => base() + offset,
    advance(ms) {
      offset += ms;
    },
    set(ms) {
      offset = ms - base();
    },
  };
}
