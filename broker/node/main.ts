/**
 * `npm run gateway`: the gateway alone, configured from the environment, pointed at any
 * Daytona API. Prints `GATEWAY_URL=...` and `JWKS_URL=...` once ready; SIGINT/SIGTERM close it.
 */
import { configFromEnv } from './config-env.js';
import { startGateway } from './server.js';
import { createStdoutLogger, flushLog } from './stdout-logger.js';

async function main(): Promise<void> {
  let env;
  try {
    env = configFromEnv();
    const logger = createStdoutLogger(env.log, env.logLevel);
    const gw = await startGateway({ config: env.config, port: env.port, host: env.host, daytonaApi: env.daytonaApi, logger });
    flushLog();
    process.stdout.write(`GATEWAY_URL=${gw.url}\nJWKS_URL=${gw.url}/.well-known/jwks.json\n`);
    if (gw.app.config.demo) process.stdout.write('GATE_DEMO=true (POST /api/demo/session issues sessions to anyone: never in production)\n');
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      gw.app.logger.info('shutdown', { signal });
      const force = setTimeout(() => process.exit(1), 5000);
      force.unref();
      void gw.close().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (err) {
    process.stderr.write(`preview-gate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

void main();
