/**
 * Wake on access. Daytona has no auto-start (docs/daytona.md, "Answers the proxy makes itself"): a stopped
 * sandbox answers 400 "no IP address found". With `autoStart` the gateway starts it (one SDK call
 * per sandbox however many requests arrive: single-flight) and answers 503 `sandbox_starting`
 * with `Retry-After: 1` meanwhile, so the error page can reload itself until the app answers.
 */
import type { DaytonaPort, Logger } from '../contracts.js';

export interface SandboxStarter {
  /** Starts the sandbox unless a start is already under way. Never rejects. */
  wake(sandboxId: string): void;
  isStarting(sandboxId: string): boolean;
  /** Resolves when the current start (if any) of that sandbox has settled. */
  settled(sandboxId: string): Promise<void>;
}

export function createSandboxStarter(deps: {
  daytona: DaytonaPort;
  logger?: Logger;
  /** Called once a start succeeded: the sandbox's standard token has changed. */
  onStarted(sandboxId: string): void;
}): SandboxStarter {
  const starting = new Map<string, Promise<void>>();
  return {
    wake(sandboxId) {
      if (starting.has(sandboxId)) return;
      deps.logger?.info('upstream.sandbox.auto_start', { sandboxId });
      const run = deps.daytona
        .startSandbox(sandboxId)
        .then(
          () => {
            deps.onStarted(sandboxId);
            deps.logger?.info('upstream.sandbox.started', { sandboxId });
          },
          (err: unknown) => {
            deps.logger?.warn('upstream.sandbox.start_failed', {
              sandboxId,
              code: (err as { code?: unknown }).code,
              message: err instanceof Error ? err.message : String(err),
            });
          },
        )
        .finally(() => starting.delete(sandboxId));
      starting.set(sandboxId, run);
    },
    isStarting(sandboxId) {
      return starting.has(sandboxId);
    },
    settled(sandboxId) {
      return starting.get(sandboxId) ?? Promise.resolve();
    },
  };
}
