/**
 * `preview-gate/node`: the Node runtime of the gateway (sockets, the real Daytona SDK, the
 * environment). The portable core is the package's main entry (`preview-gate`).
 *
 * @example
 * import { configFromEnv, startGateway } from 'preview-gate/node';
 * const env = configFromEnv();
 * const gw = await startGateway({ config: env.config, port: env.port, host: env.host, daytonaApi: env.daytonaApi });
 */
export { startGateway, loadAssets, type StartGatewayOptions, type RunningGateway } from './server.js';
export { configFromEnv, type EnvConfig } from './config-env.js';
export { startHeapHeadroom, type HeapHeadroom } from './v8-heap.js';
export { createStdoutLogger, flushLog, type LogMode } from './stdout-logger.js';
export { packageVersion } from './version.js';
