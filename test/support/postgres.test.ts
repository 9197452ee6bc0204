import { createTestDatabase } from './postgres';

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
});
