/**
 * The Node entry's logger: `GATE_LOG=json` (default) writes one JSON line per event to stdout,
 * `GATE_LOG=off` writes nothing (benchmarks, or when a sidecar already logs each request);
 * `GATE_LOG_LEVEL` (debug, info (default), warn, error) drops the lines below it.
 *
 * Lines are batched: a write to a pipe or file is synchronous in Node (one syscall per call),
 * which made logging the single largest cost of a proxied request under load. Lines queue in
 * memory and go out in one write at the end of the current event-loop turn (setImmediate), and
 * whatever is queued is written synchronously when the process exits, so no line is lost on a
 * normal exit, an uncaught exception or process.exit().
 */
import { createJsonLogger, silentLogger } from '../core/logger.js';
import type { LogLevel } from '../core/logger.js';
import type { Logger } from '../core/contracts.js';

export type LogMode = 'json' | 'off';

let queue: string[] = [];
let scheduled = false;
let exitHook = false;

function flush(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const text = queue.join('\n') + '\n';
  queue = [];
  process.stdout.write(text);
}

function writeLine(line: string): void {
  queue.push(line);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', flush);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/**
 * @example
 * const logger = createStdoutLogger(process.env.GATE_LOG === 'off' ? 'off' : 'json');
 */
export function createStdoutLogger(mode: LogMode = 'json', level: LogLevel = 'info'): Logger {
  return mode === 'off' ? silentLogger : createJsonLogger(writeLine, level);
}

/** Writes queued lines now (before writing readiness lines that must follow them, for instance). */
export function flushLog(): void {
  flush();
}
