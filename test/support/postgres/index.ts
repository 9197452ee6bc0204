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
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      await pool.end();
      const c = new Client({ connectionString: serverUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The superuser URL of the shared server (for tests that create roles or databases). */
export function testServerUrl(): string {
  return serverUrl();
}
