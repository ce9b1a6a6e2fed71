/**
 * `npm run gateway`: the gateway alone, configured from the environment, pointed at any
 * Daytona API. Prints `GATEWAY_URL=...` and `JWKS_URL=...` once ready.
 *
 * Signals (ARCHITECTURE.md, "Shutdown"): the first SIGTERM or SIGINT drains (server.ts
 * `drain()`: /readyz 503, no new connections, requests in flight finish within
 * GATE_DRAIN_SECONDS, WebSockets closed with 1001) and exits 0, also when the drain timeout had
 * to cut connections (logged `drain_timeout`: that is the bound doing its job). A second signal
 * at least a second later stops at once with exit code 1 (signals.ts).
 */
import { configFromEnv } from './config-env.js';
import { startGateway } from './server.js';
import { createStdoutLogger, flushLog } from './stdout-logger.js';
import { handleShutdownSignals } from './signals.js';
import { startHeapHeadroom } from './v8-heap.js';

async function main(): Promise<void> {
  try {
    const env = configFromEnv();
    // Old-generation headroom while Buffers stream (v8-heap.ts): no full GC every 16 MB of a transfer.
    startHeapHeadroom(env.heapHeadroomMb);
    const logger = createStdoutLogger(env.log, env.logLevel);
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
    handleShutdownSignals(() => gw.drain(), env.drainSeconds * 1000, {
      onFirst: (signal) => gw.app.logger.info('shutdown', { signal, drainSeconds: env.drainSeconds }),
      onForced: (signal) => gw.app.logger.warn('shutdown_forced', { signal }),
      beforeExit: flushLog,
    });
  } catch (err) {
    // Configuration errors already start with `preview-gate config:` and name their variable.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${message.startsWith('preview-gate') ? message : `preview-gate: ${message}`}\n`);
    process.exit(1);
  }
}

void main();
