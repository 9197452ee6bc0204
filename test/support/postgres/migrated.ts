import { runMigrations } from '../../../lambda/migrations/runner';
import { createTestDatabase, TestDatabase } from './index';

/**
 * A fresh database on the test run's PostgreSQL 17 with every `sql/` migration
 * applied by the same runner the deploy-time custom resource uses. `drop()` it in afterAll.
 */
export async function createMigratedDatabase(prefix = 'm'): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  try {
    const client = await db.pool.connect();
    try {
      await runMigrations(client);
    } finally {
      client.release();
    }
    return db;
  } catch (err) {
    await db.drop();
    throw err;
  }
}
