/**
 * Process signals for the long-running commands (`npm run gateway`, broker/node/main.ts, and
 * `npm run demo`, demo/main.ts): the first SIGTERM or SIGINT runs `stop` (a graceful drain) and
 * exits 0 when it settles. A second signal at least a second later stops at once with exit
 * code 1; one arriving sooner is the same Ctrl-C delivered twice (the terminal signals the whole
 * process group and npm forwards it to its child as well). A watchdog exits 1 if `stop` hangs
 * past `boundMs` + 10 s.
 */
const DUPLICATE_SIGNAL_MS = 1_000;
const CLOSE_GRACE_MS = 10_000;

export interface SignalHooks {
  /** Called with the signal on the first one (log it). */
  onFirst?(signal: string): void;
  /** Called on a forcing second signal, just before exit(1). */
  onForced?(signal: string): void;
  /** Called just before any exit (flush logs). */
  beforeExit?(): void;
}

/**
 * @example
 * handleShutdownSignals(() => gw.drain(), 25_000, { onFirst: (s) => log.info('shutdown', { signal: s }) });
 */
export function handleShutdownSignals(stop: () => Promise<unknown>, boundMs: number, hooks: SignalHooks = {}): void {
  let firstAt = 0;
  const exit = (code: number) => {
    hooks.beforeExit?.();
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt !== 0) {
      if (now - firstAt < DUPLICATE_SIGNAL_MS) return;
      hooks.onForced?.(signal);
      return exit(1);
    }
    firstAt = now;
    hooks.onFirst?.(signal);
    setTimeout(() => exit(1), boundMs + CLOSE_GRACE_MS).unref();
    void stop()
      .catch(() => undefined)
      .then(() => exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
