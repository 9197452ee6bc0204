import type { ClientBase } from 'pg';
import { ensureLoginRole } from '../shared/login-role';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export interface FutureTablesReaderSpec {
  readonly roleName: string;
  readonly password: string;
  /** The role that creates the tables (Synapse's own), possibly after this runs. */
  readonly tableOwner: string;
  /** Tables of the `public` schema the reader keeps SELECT on; those that exist now are granted now. */
  readonly tables: readonly string[];
}

export interface FutureTablesReaderResult {
  /** Listed tables that exist and are granted now. */
  readonly granted: readonly string[];
  /** Listed tables not created yet: readable once `tableOwner` creates them (default privileges). */
  readonly pending: readonly string[];
  /** Other tables of `tableOwner` the reader could read (created since the last run) and no longer can. */
  readonly revoked: readonly string[];
}

/**
 * A read-only login role for a database whose tables another role creates later (Synapse creates its
 * schema at its first start, which may come after this deploy step). `ALTER DEFAULT PRIVILEGES FOR ROLE
 * <owner>` makes every table the owner creates readable, so the reader works from the owner's first
 * start on without waiting for this step to run again; each run then narrows the reader back to
 * `tables` on whatever exists. One transaction for the grants: a failure leaves nothing half-granted.
 *
 * Runs as RDS's master user (CREATEROLE, not superuser): it may alter default privileges only for a
 * role it is a member of, so it takes membership of the owner first, as the database setup does.
 */
export async function ensureFutureTablesReader(client: ClientBase, spec: FutureTablesReaderSpec): Promise<FutureTablesReaderResult> {
  for (const name of [spec.tableOwner, ...spec.tables]) {
    if (!IDENTIFIER.test(name)) throw new Error(`expected lower-case SQL identifiers (a-z, 0-9, _), got "${name}"`);
  }
  if (spec.tables.length === 0) throw new Error(`${spec.roleName}: no tables to grant`);
  if (spec.roleName === spec.tableOwner) throw new Error(`the reader ${spec.roleName} cannot be the table owner itself`);
  await ensureLoginRole(client, spec.roleName, spec.password);
  const reader = client.escapeIdentifier(spec.roleName);
  const owner = client.escapeIdentifier(spec.tableOwner);

  const member = await client.query<{ ok: boolean }>("SELECT pg_has_role(current_user, $1, 'USAGE') AS ok", [spec.tableOwner]);
  if (!member.rows[0].ok) await client.query(`GRANT ${owner} TO CURRENT_USER`);

  await client.query('BEGIN');
  try {
    const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db;
    await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(db)} TO ${reader}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${reader}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT ON TABLES TO ${reader}`);
    const { rows } = await client.query<{ table_name: string }>(`SELECT DISTINCT table_name FROM information_schema.role_table_grants WHERE grantee = $1 AND table_schema = 'public'`, [spec.roleName]);
    const revoked = rows.map((r) => r.table_name).filter((t) => !spec.tables.includes(t));
    for (const table of revoked) await client.query(`REVOKE ALL ON public.${client.escapeIdentifier(table)} FROM ${reader}`);
    const existing = (await client.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NOT NULL`, [spec.tables])).rows.map((r) => r.t);
    for (const table of existing) {
      const t = `public.${client.escapeIdentifier(table)}`;
      await client.query(`REVOKE ALL ON ${t} FROM ${reader}`);
      await client.query(`GRANT SELECT ON ${t} TO ${reader}`);
    }
    await client.query('COMMIT');
    return { granted: existing, pending: spec.tables.filter((t) => !existing.includes(t)), revoked: revoked.sort() };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
