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
export function createJsonLogger(write: (line: string) => void = (l) => console.log(l), level: LogLevel = 'info', bound?: Record<string, unknown>): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: lvl, event, ...bound, ...fields }));
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    enabled: (lvl) => LOG_LEVELS.indexOf(lvl) >= min,
    with: (fields) => createJsonLogger(write, level, { ...bound, ...fields }),
  };
}

/**
 * A logger adding `fields` to every line of `logger`: its own `with` when it has one, else a
 * wrapper (a caller's custom Logger). The core has no AsyncLocalStorage (it imports nothing
 * from `node:`), so a request's lines get its `rid` through a child logger passed along.
 *
 * @example
 * childLogger(log, { rid: 'abc' }).warn('rate_limited', { action: 'launch' }); // {..., "rid":"abc","action":"launch"}
 */
export function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  if (logger === silentLogger) return logger;
  if (logger.with) return logger.with(fields);
  const add = (f?: Record<string, unknown>) => ({ ...fields, ...f });
  return {
    info: (e, f) => logger.info(e, add(f)),
    warn: (e, f) => logger.warn(e, add(f)),
    error: (e, f) => logger.error(e, add(f)),
    ...(logger.debug ? { debug: (e: string, f?: Record<string, unknown>) => logger.debug!(e, add(f)) } : {}),
    ...(logger.enabled ? { enabled: logger.enabled.bind(logger) } : {}),
    with: (more) => childLogger(logger, { ...fields, ...more }),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {}, enabled: () => false };
