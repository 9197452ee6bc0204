import type { Pool } from 'pg';

/** A single-column foreign key of the public schema. */
export interface ForeignKey {
  readonly table: string;
  readonly column: string;
  readonly refTable: string;
  readonly refColumn: string;
}

/** What Hasura introspects from a Postgres source, for the public schema's base tables. */
export interface PublicSchemaCatalog {
  /** Column names by table. */
  readonly columns: Map<string, Set<string>>;
  /** Single-column foreign keys (Hasura's `foreign_key_constraint_on` needs exactly that). */
  readonly foreignKeys: readonly ForeignKey[];
  /** `table.column` for every column with a single-column, non-partial unique index. */
  readonly uniqueColumns: ReadonlySet<string>;
}

/** Reads the public schema's tables, columns, foreign keys and unique columns from the live database. */
export async function readPublicSchemaCatalog(pool: Pool): Promise<PublicSchemaCatalog> {
  const cols = await pool.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`,
  );
  const columns = new Map<string, Set<string>>();
  for (const r of cols.rows) {
    if (!columns.has(r.table_name)) columns.set(r.table_name, new Set());
    columns.get(r.table_name)!.add(r.column_name);
  }
  const fks = await pool.query<ForeignKey & { ncols: number }>(
    `SELECT cl.relname AS "table", a.attname AS "column", rcl.relname AS "refTable", ra.attname AS "refColumn",
            array_length(con.conkey, 1) AS ncols
       FROM pg_constraint con
       JOIN pg_class cl ON cl.oid = con.conrelid
       JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = 'public'
       JOIN pg_class rcl ON rcl.oid = con.confrelid
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
       JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
      WHERE con.contype = 'f'`,
  );
  const uniques = await pool.query<{ table: string; column: string }>(
    `SELECT cl.relname AS "table", a.attname AS "column"
       FROM pg_index i
       JOIN pg_class cl ON cl.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = 'public'
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL`,
  );
  return {
    columns,
    foreignKeys: fks.rows.filter((r) => r.ncols === 1).map(({ table, column, refTable, refColumn }) => ({ table, column, refTable, refColumn })),
    uniqueColumns: new Set(uniques.rows.map((u) => `${u.table}.${u.column}`)),
  };
}

/** A fingerprint of the public schema: every column, constraint and index, so a test can tell it is untouched. */
export async function schemaFingerprint(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ f: string }>(`
    SELECT string_agg(x, E'\\n' ORDER BY x) AS f FROM (
      SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' || coalesce(column_default, '') AS x
      FROM information_schema.columns WHERE table_schema = 'public'
      UNION ALL SELECT conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      UNION ALL SELECT indexname || ':' || indexdef FROM pg_indexes WHERE schemaname = 'public') s`);
  return rows[0].f;
}
