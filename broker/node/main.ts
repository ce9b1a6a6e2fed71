/**
 * `npm run gateway`: the gateway alone, configured from the environment, pointed at any
 * Daytona API. Prints `GATEWAY_URL=...` and `JWKS_URL=...` once ready.
 *
 * Signals (ARCHITECTURE.md, "Shutdown"): the first SIGTERM or SIGINT drains (server.ts
 * `drain()`: /readyz 503, no new connections, requests in flight finish within
 * GATE_DRAIN_SECONDS, WebSockets closed with 1001) and exits 0, also when the drain timeout had
 * to cut connections (logged `drain_timeout`: that is the bound doing its job). A second signal
 * at least a second later stops at once with exit code 1; one arriving sooner is the same
 * Ctrl-C delivered twice (the terminal signals the process group and npm forwards it too).
 */
import { configFromEnv } from './config-env.js';
import { startGateway } from './server.js';
import { createStdoutLogger, flushLog } from './stdout-logger.js';

/** Signals closer than this to the first are duplicates of it, not a request to force. */
const DUPLICATE_SIGNAL_MS = 1_000;
/** Time allowed, after the drain bound, to release the store and the Daytona client. */
const CLOSE_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let env;
  try {
    env = configFromEnv();
    const logger = createStdoutLogger(env.log);
    const gw = await startGateway({
      config: env.config,
      port: env.port,
      host: env.host,
      daytonaApi: env.daytonaApi,
      logger,
      drainSeconds: env.drainSeconds,
    });
    flushLog();
    process.stdout.write(`GATEWAY_URL=${gw.url}\nJWKS_URL=${gw.url}/.well-known/jwks.json\n`);
    if (gw.app.config.demo) process.stdout.write('GATE_DEMO=true (POST /api/demo/session issues sessions to anyone: never in production)\n');
    let firstSignalAt = 0;
    const stop = (signal: string) => {
      const now = Date.now();
      if (firstSignalAt !== 0) {
        if (now - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
        gw.app.logger.warn('shutdown_forced', { signal });
        flushLog();
        process.exit(1);
      }
      firstSignalAt = now;
      gw.app.logger.info('shutdown', { signal, drainSeconds: env!.drainSeconds });
      flushLog();
      // Watchdog: a close that hangs (store, Daytona client) never keeps the process alive.
      setTimeout(() => process.exit(1), env!.drainSeconds * 1000 + CLOSE_GRACE_MS).unref();
      void gw
        .drain()
        .catch(() => undefined)
        .then(() => {
          flushLog();
          process.exit(0);
        });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (err) {
    process.stderr.write(`preview-gate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

void main();
