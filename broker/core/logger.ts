/** The default Logger: one JSON line per event (console exists on every runtime). */
import type { Logger } from './contracts.js';

/**
 * @example
 * const log = createJsonLogger();
 * log.info('request', { method: 'GET', status: 200 }); // {"t":"...","level":"info","event":"request",...}
 */
export function createJsonLogger(write: (line: string) => void = (l) => console.log(l)): Logger {
  const emit = (level: string, event: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ t: new Date().toISOString(), level, event, ...fields }));
  return {
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
