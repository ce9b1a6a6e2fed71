/** The default Logger: one JSON line per event (console exists on every runtime), with a minimum level. */
import type { Logger } from './contracts.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * @example
 * const log = createJsonLogger(undefined, 'warn');
 * log.info('request', { method: 'GET', status: 200 }); // dropped: below warn
 * log.warn('origin_not_allowed', { origin }); // {"t":"...","level":"warn","event":"origin_not_allowed",...}
 */
export function createJsonLogger(write: (line: string) => void = (l) => console.log(l), level: LogLevel = 'info'): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: lvl, event, ...fields }));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    enabled: (lvl) => LOG_LEVELS.indexOf(lvl) >= min,
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {}, enabled: () => false };
