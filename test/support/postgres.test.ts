import { Client } from 'pg';
import { createTestDatabase, testServerUrl } from './postgres';

describe('the Postgres fixture', () => {
  it('gives each test file its own database on a real PostgreSQL 17', async () => {
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    try {
      const { rows } = await a.pool.query<{ version: string; db: string }>('SELECT current_setting($1) AS version, current_database() AS db', ['server_version_num']);
      expect(Number(rows[0].version)).toBeGreaterThanOrEqual(170000);
      expect(Number(rows[0].version)).toBeLessThan(180000);
      expect(rows[0].db).toBe(a.name);
      await a.pool.query('CREATE TABLE only_in_a (x int)');
      const seen = await b.pool.query(`SELECT to_regclass('only_in_a') AS t`);
      expect(seen.rows[0].t).toBeNull();
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  it('drops a database whose pool still holds idle connections, without an unhandled client error', async () => {
    const db = await createTestDatabase();
    // Several idle pooled connections, as a test leaves behind when it ends.
    const clients = await Promise.all([db.pool.connect(), db.pool.connect(), db.pool.connect()]);
    for (const c of clients) c.release();
    await expect(db.drop()).resolves.toBeUndefined();
  });

  it('reports a pooled connection that the server ended while the test ran', async () => {
    const db = await createTestDatabase();
    const client = await db.pool.connect();
    client.release();
    const admin = new Client({ connectionString: testServerUrl() });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
    } finally {
      await admin.end();
    }
    // The idle client learns of the termination asynchronously; the pool then discards it.
    for (const deadline = Date.now() + 10_000; db.pool.idleCount > 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    await expect(db.drop()).rejects.toThrow(/a pooled connection to .* failed while the test ran: terminating connection/);
  });
});
