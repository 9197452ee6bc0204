/**
 * `npm run local`: the whole MCP stack on loopback, for trying the tools with any MCP client (the
 * MCP Inspector, Claude Code, a script). `npm run local -- --help` lists the options.
 *
 * Prints KEY=value lines on stdout (MCP_URL, MCP_TOKEN…, MCP_AUTHORIZATION_SERVER,
 * MCP_INTERACTIVE_CLIENT_ID, DATABASE_URL); logs go to stderr.
 *
 * This process only supervises. The stack runs in a worker (scripts/local/worker.ts) in a session
 * of its own, so Ctrl-C, SIGTERM to npm or SIGTERM to the whole process group all end the same
 * way: this process asks the worker to stop, the server lets in-flight calls finish, then
 * PostgreSQL stops and its folder is removed, and only then does this process exit (0). A second
 * signal while stopping is ignored: the drain is bounded (5 s) on its own.
 * package.json runs it as `exec node --import tsx …`: exec, so npm's forwarded SIGTERM reaches this
 * process rather than the sh between them, which dies of it and orphans us; node --import tsx
 * rather than the tsx CLI, whose own supervisor SIGKILLs a child that is still draining. Should the
 * parent die all the same, this process notices within half a second and stops the stack.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { parseLocalOptions, UsageError, USAGE } from './local/options';
import type { SupervisorMessage, WorkerMessage } from './local/worker';

// How soon an orphaned supervisor notices; process.ppid is read afresh each time.
const PARENT_CHECK_MS = 500;

function main(): void {
  let options;
  try {
    options = parseLocalOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`npm run local: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const worker = fork(join(__dirname, 'local', 'worker.ts'), process.argv.slice(2), {
    detached: true, // its own session and process group: the terminal's and npm's signals stop here
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopSignal: string | undefined;
  const stop = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (worker.connected) worker.send({ type: 'stop', signal } satisfies SupervisorMessage);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  // Whoever started us is gone (npm, its sh, a terminal closed with SIGKILL): nobody is left to
  // stop the stack, so stop it now rather than leave it running with the port and PostgreSQL.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop('parent gone'), PARENT_CHECK_MS).unref();

  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'ready') {
      process.stdout.write(`${m.variables.join('\n')}\n`);
      const tokens = m.variables.filter((v) => v.startsWith('MCP_TOKEN')).length;
      process.stderr.write(
        tokens > 0
          ? `Connect an MCP client to MCP_URL with header "Authorization: Bearer $MCP_TOKEN" (${tokens} agent token${tokens > 1 ? 's' : ''}, valid 12 h), or sign in through MCP_AUTHORIZATION_SERVER with client id MCP_INTERACTIVE_CLIENT_ID. Ctrl-C stops.\n`
          : 'Auth is off (--no-auth): every loopback caller is the agent, with both scopes. Ctrl-C stops.\n',
      );
    } else if (m.type === 'failed') {
      process.stderr.write(`npm run local: ${m.message}\n`);
    }
  });
  worker.on('exit', (code, signal) => {
    // The worker's status is ours; killed by a signal it did not stop in order.
    process.exit(code ?? (signal ? 1 : 0));
  });
}

main();
