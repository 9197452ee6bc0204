import type { BackendLogger } from './backend/types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger extends BackendLogger {
  /** A logger whose lines all carry `fields` (e.g. the request id). */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * One JSON object per line on stdout (CloudWatch/awslogs keeps each line as one event).
 * Callers pass ids, names, counts and outcomes; tokens and message bodies never reach
 * info level (the tool layer logs only tool name, latency and outcome).
 */
export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, write: (line: string) => void = (line) => process.stdout.write(line + '\n')): Logger {
  const threshold = LEVELS[level];
  const emit = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

/** The name and message of an unknown error, for a log line (never its stack or payload). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { errorName: err.name, errorMessage: err.message, ...('code' in err ? { errorCode: err.code } : {}) };
  return { errorMessage: String(err) };
}
