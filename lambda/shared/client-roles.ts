import type { ClientBase } from 'pg';
import { ensureLoginRole } from './login-role';

import type { ClientRoleSpec } from '../../chat-domain/client-roles';

export { CLIENT_ROLE_NAMES, CLIENT_ROLES } from '../../chat-domain/client-roles';
export type { ClientRoleName, ClientRoleSpec, TableGrant, TablePrivilege } from '../../chat-domain/client-roles';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Makes `roleName` a login role with `password` (null: its password left as it is, see
 * ensureLoginRole) and exactly the privileges of `spec` on the public schema: whatever else it holds
 * on a public table is revoked, so a privilege dropped from the spec goes on the next run. Runs in one
 * transaction (nothing half-granted), any number of times.
 */
export interface EnsureClientRoleOptions {
  /** The role Hasura connects as, which owns hdb_catalog (for `eventLogWriter`). @default 'hasura' */
  readonly hasuraRole?: string;
}

export async function ensureClientRole(client: ClientBase, roleName: string, password: string | null, spec: ClientRoleSpec, options: EnsureClientRoleOptions = {}): Promise<void> {
  const hasuraRole = options.hasuraRole ?? 'hasura';
  if (!IDENTIFIER.test(hasuraRole)) throw new Error(`hasuraRole must be a lower-case SQL identifier, got "${hasuraRole}"`);
  checkClientRoleSpec(roleName, spec);
  await ensureLoginRole(client, roleName, password);
  const role = client.escapeIdentifier(roleName);
  await client.query('BEGIN');
  try {
    const missing = await missingTables(client, [spec]);
    if (missing.length > 0) throw new Error(`cannot grant ${roleName}: no table ${missing.join(', ')} in the public schema (have the migrations run?)`);
    const database = client.escapeIdentifier((await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db);

    // Start from nothing on every public table (column grants included), then grant the spec.
    const { rows: publicTables } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')`,
    );
    for (const { name } of publicTables) {
      const t = `public.${client.escapeIdentifier(name)}`;
      await client.query(`REVOKE ALL ON ${t} FROM ${role}`);
      const { rows: columns } = await client.query<{ column_name: string }>(
        `SELECT DISTINCT column_name FROM information_schema.column_privileges WHERE grantee = $1 AND table_schema = 'public' AND table_name = $2`,
        [roleName, name],
      );
      if (columns.length > 0) await client.query(`REVOKE ALL (${columns.map((c) => client.escapeIdentifier(c.column_name)).join(', ')}) ON ${t} FROM ${role}`);
    }
    await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    await client.query(`${spec.createSchemas ? 'GRANT' : 'REVOKE'} CREATE ON DATABASE ${database} ${spec.createSchemas ? 'TO' : 'FROM'} ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    for (const [table, grant] of Object.entries(spec.tables)) {
      const t = `public.${client.escapeIdentifier(table)}`;
      const whole = grant.updateColumns ? grant.privileges.filter((p) => p !== 'UPDATE') : grant.privileges;
      if (whole.length > 0) await client.query(`GRANT ${whole.join(', ')} ON ${t} TO ${role}`);
      if (grant.updateColumns) await client.query(`GRANT UPDATE (${grant.updateColumns.map((c) => client.escapeIdentifier(c)).join(', ')}) ON ${t} TO ${role}`);
    }
    if (spec.eventLogWriter) await grantEventLogWrite(client, role, client.escapeIdentifier(hasuraRole));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** Refuses a spec whose names are not plain identifiers, or that limits an UPDATE it does not grant. */
export function checkClientRoleSpec(roleName: string, spec: ClientRoleSpec): void {
  for (const [table, grant] of Object.entries(spec.tables)) {
    for (const name of [table, ...(grant.updateColumns ?? [])]) {
      if (!IDENTIFIER.test(name)) throw new Error(`${roleName}: expected lower-case SQL identifiers, got "${name}"`);
    }
    if (grant.updateColumns && !grant.privileges.includes('UPDATE')) throw new Error(`${roleName}: updateColumns on ${table} without UPDATE`);
  }
}

/** The tables `specs` grant on that the public schema does not have (sorted, each once). */
export async function missingTables(client: ClientBase, specs: readonly ClientRoleSpec[]): Promise<string[]> {
  const tables = [...new Set(specs.flatMap((spec) => Object.keys(spec.tables)))];
  const { rows } = await client.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NULL ORDER BY t`, [tables]);
  return rows.map((r) => r.t);
}

/**
 * USAGE on hdb_catalog and INSERT on its event_log, once Hasura has created them. Hasura creates its
 * catalog at its first start and the trigger when the metadata is applied, both after the roles
 * exist: so this runs again after the metadata step, before which no trigger can fire.
 *
 * hdb_catalog belongs to the Hasura role, and RDS's master user is no superuser: on PostgreSQL 16+
 * the role that created `hasura` holds only ADMIN OPTION on it, and may not grant on its objects
 * ("permission denied for schema hdb_catalog"). So the master first takes membership (INHERIT) in
 * the Hasura role, which that ADMIN OPTION allows; the grant is then recorded as the owner's.
 */
async function grantEventLogWrite(client: ClientBase, role: string, hasuraRole: string): Promise<void> {
  // From the catalog, not to_regclass: resolving a name in a schema one may not use is refused.
  const { rows } = await client.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hdb_catalog' AND c.relname = 'event_log') AS present`,
  );
  if (!rows[0].present) return;
  await client.query(`GRANT ${hasuraRole} TO CURRENT_USER WITH INHERIT TRUE`);
  await client.query(`GRANT USAGE ON SCHEMA hdb_catalog TO ${role}`);
  await client.query(`GRANT INSERT ON hdb_catalog.event_log TO ${role}`);
}

/** What adoptHasuraCatalog changed. */
export interface CatalogAdoption {
  /** Whether hdb_catalog exists (Hasura creates it at its first start). */
  readonly present: boolean;
  /** Objects of hdb_catalog (the schema included) whose owner became the Hasura role, as `kind name`. */
  readonly adopted: readonly string[];
}

/**
 * Makes the Hasura role the owner of hdb_catalog and of everything in it. A stack deployed before
 * the per-client roles ran Hasura as the master user, so its catalog is the master's; Hasura must
 * own it, because grants cannot give what it does there (graphql-engine's source):
 * - at start it migrates the catalog's tables (src-rsr/migrations, src-rsr/pg_source_migrations:
 *   ALTER TABLE, CREATE INDEX, CREATE OR REPLACE FUNCTION on hdb_catalog objects);
 * - each metadata apply re-creates the trigger functions with CREATE OR REPLACE FUNCTION
 *   (Backends/Postgres/DDL/EventTrigger.hs, mkTriggerFunctionQ) and drops them with DROP FUNCTION
 *   ... CASCADE (dropTriggerOp), which only the owner may do.
 * On a new stack hdb_catalog does not exist yet and Hasura creates it as its own role.
 *
 * One transaction. The master takes membership (INHERIT) in the Hasura role first: on PostgreSQL
 * 16+ only a member of the new owner may give it an object, and a master that keeps that membership
 * keeps the old engine (still connecting as the master during the rollout) working on the catalog.
 * Indexes, a table's row type and the sequences a table owns follow their table.
 */
export async function adoptHasuraCatalog(client: ClientBase, hasuraRole: string): Promise<CatalogAdoption> {
  if (!IDENTIFIER.test(hasuraRole)) throw new Error(`hasuraRole must be a lower-case SQL identifier, got "${hasuraRole}"`);
  const present = (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'hdb_catalog'`)).rowCount === 1;
  if (!present) return { present, adopted: [] };
  const owner = client.escapeIdentifier(hasuraRole);
  await client.query(`GRANT ${owner} TO CURRENT_USER WITH INHERIT TRUE`);
  await client.query('BEGIN');
  try {
    // Each row is the ALTER that gives one object to the Hasura role, for the objects it does not own yet.
    const { rows } = await client.query<{ kind: string; name: string }>(
      `WITH catalog AS (SELECT oid FROM pg_namespace WHERE nspname = 'hdb_catalog'), target AS (SELECT oid FROM pg_roles WHERE rolname = $1)
       SELECT 'SCHEMA' AS kind, quote_ident(nspname) AS name FROM pg_namespace WHERE oid = (SELECT oid FROM catalog) AND nspowner <> (SELECT oid FROM target)
       UNION ALL
       SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, c.oid::regclass::text
         FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM catalog) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND c.relowner <> (SELECT oid FROM target)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
       UNION ALL
       SELECT 'ROUTINE', p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM catalog) AND p.proowner <> (SELECT oid FROM target)
       UNION ALL
       SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text FROM pg_type t
        WHERE t.typnamespace = (SELECT oid FROM catalog) AND t.typrelid = 0 AND t.typowner <> (SELECT oid FROM target)
          AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)`,
      [hasuraRole],
    );
    for (const { kind, name } of rows) await client.query(`ALTER ${kind} ${name} OWNER TO ${owner}`);
    await client.query('COMMIT');
    return { present, adopted: rows.map((r) => `${r.kind.toLowerCase()} ${r.name}`) };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
