import type { BackendLogger } from './backend/types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger extends BackendLogger {
  /** A logger whose lines all carry `fields` (e.g. the request id). */
  child(fields: Record<string, unknown>): Logger;
}

/** Past this many characters pending, lines are written at once rather than at the end of the turn. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * A line sink that gathers the lines of one event-loop turn and writes them to `out` in one call,
 * in order, once the turn's I/O callbacks have run (setImmediate); whatever is pending is written
 * when the process exits (process.exit on SIGTERM included), as stdout to a pipe writes synchronously.
 * Why not one write per line: every call logs two lines (the access line and the tool line) and a
 * write to the pipe is a system call, which on this VM was 6 % of the server's busy time under
 * npm run bench:mcp (--cpu-prof, 64 clients); gathered, the calls that finish in one turn share one.
 */
export function batchedLineSink(out: (chunk: string) => void): (line: string) => void {
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    out(chunk);
  };
  process.on('exit', flush);
  return (line) => {
    if (pending === '') setImmediate(flush);
    pending += line + '\n';
    if (pending.length > MAX_PENDING_CHARS) flush();
  };
}

let stdoutSink: ((line: string) => void) | undefined;
/** The process's one stdout sink, shared by every logger, so lines keep their order. */
const stdoutLines = (line: string) => (stdoutSink ??= batchedLineSink((chunk) => process.stdout.write(chunk)))(line);

/**
 * One JSON object per line on stdout (CloudWatch/awslogs keeps each line as one event).
 * Callers pass ids, names, counts and outcomes; tokens and message bodies never reach
 * info level (the tool layer logs only tool name, latency and outcome).
 */
export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, write: (line: string) => void = stdoutLines): Logger {
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
