import type { Pool } from 'pg';

/**
 * Loads a large table quickly: its plain indexes (not those behind a constraint) are dropped, `load`
 * runs, and they are created again from their own definitions (pg_get_indexdef), so the table ends up
 * indexed exactly as its migrations left it. Row triggers (the moderation rules, foreign keys) are
 * skipped during the load with session_replication_role, on one connection. Then ANALYZE, so the
 * planner sees the new rows.
 */
export async function bulkLoad(pool: Pool, table: string, load: (sql: (text: string, values?: unknown[]) => Promise<unknown>) => Promise<unknown>): Promise<void> {
  const client = await pool.connect();
  try {
    const { rows: indexes } = await client.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      [table],
    );
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
    await client.query('SET session_replication_role = replica');
    await load((text, values) => client.query(text, values));
    await client.query('RESET session_replication_role');
    for (const index of indexes) await client.query(index.def);
    await client.query(`ANALYZE ${table}`);
  } finally {
    client.release();
  }
}
