import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { POSTGRES_URL_ENV } from './constants';

export interface TestDatabase {
  /** Connection URL of this test file's own database. */
  readonly url: string;
  readonly name: string;
  /** A pool on this database, closed by `drop()`. */
  readonly pool: Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env[POSTGRES_URL_ENV];
  if (!url) throw new Error(`${POSTGRES_URL_ENV} is not set: is jest running with test/support/postgres/global-setup.ts?`);
  return url;
}

/** Creates a fresh, empty database on the shared PostgreSQL 17 of this jest run. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 5 });
  // pool.end() resolves once it has *asked* its idle clients to end, not once their backends are
  // gone, so DROP DATABASE ... WITH (FORCE) can still terminate one (SQLSTATE 57P01), and pg then
  // emits 'error' on a client nobody listens to: an unhandled error that fails whichever test runs
  // next. That termination is the drop working; any other client error is kept and reported.
  let dropping = false;
  const unexpected: Error[] = [];
  const onClientError = (err: Error & { code?: string }) => {
    if (dropping && err.code === '57P01') return;
    unexpected.push(err);
  };
  pool.on('error', onClientError);
  pool.on('connect', (client) => client.on('error', onClientError));
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      dropping = true;
      await pool.end();
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
      if (unexpected.length > 0) {
        throw new Error(`a pooled connection to ${name} failed while the test ran: ${unexpected.map((e) => e.message).join('; ')}`);
      }
    },
  };
}

/** The superuser URL of the shared server (for tests that create roles or databases). */
export function testServerUrl(): string {
  return serverUrl();
}
