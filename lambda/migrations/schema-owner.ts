import type { ClientBase, DatabaseError } from 'pg';
import { MigrationError } from '../../chat-domain/migration-files';

/**
 * The chat schema belongs to a NOLOGIN role, not to the login that runs the migrations (issue #15).
 * Nobody can log in as it: the migrations take it with SET ROLE for each file, and every client role
 * gets its grants from it (lambda/shared/client-roles.ts, run by the master as a member). So a leaked
 * client login can never ALTER or DROP a chat table, and the master's own objects stay apart from the
 * chat schema.
 */
export const CHAT_SCHEMA_OWNER = 'chat_owner';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Roles live in the cluster's shared catalog, so two databases migrated at once (a test run; the
 * migrations lock is per database) can race to create or grant the same role. The loser gets one of
 * these and simply runs again, finding the role made.
 */
const CONCURRENT_CATALOG_CHANGE = new Set(['42710', '23505', 'XX000', '40001']);

export interface SchemaOwnerResult {
  /** The owner role was created by this run. */
  readonly created: boolean;
  /** Objects of the public schema this run handed from the migrating login to the owner (an upgrade). */
  readonly adopted: string[];
}

/**
 * Makes `owner` exist (NOLOGIN), lets the current login SET ROLE to it and use its privileges (so it
 * can run migrations as it and grant on its tables), lets it create in the public schema and trusted
 * extensions in the database, and hands it whatever of the public schema the current login still owns
 * (a stack migrated before the owner role existed). `keep` names tables that stay the login's (the
 * migrations' own bookkeeping). One transaction: on any error nothing of it stays.
 */
export async function ensureSchemaOwner(client: ClientBase, owner: string, keep: readonly string[]): Promise<SchemaOwnerResult> {
  if (!IDENTIFIER.test(owner)) throw new MigrationError(`the schema owner must be a lower-case SQL identifier, got ${JSON.stringify(owner)}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(client, owner, keep);
    } catch (err) {
      if (attempt >= 3 || !CONCURRENT_CATALOG_CHANGE.has(String((err as Partial<DatabaseError>).code))) throw err;
    }
  }
}

async function ensureOnce(client: ClientBase, owner: string, keep: readonly string[]): Promise<SchemaOwnerResult> {
  const role = client.escapeIdentifier(owner);
  await client.query('BEGIN');
  try {
    const exists = (await client.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [owner])).rows[0] as { rolcanlogin: boolean } | undefined;
    if (exists?.rolcanlogin) throw new MigrationError(`the schema owner ${owner} exists and can log in; it must be a NOLOGIN role (ALTER ROLE ${owner} NOLOGIN)`);
    if (!exists) await client.query(`CREATE ROLE ${role} NOLOGIN`);
    // PostgreSQL 16+ gives the creator ADMIN only; INHERIT lets the login grant on the owner's tables, SET lets it become the owner.
    const member = await client.query(
      `SELECT 1 FROM pg_auth_members WHERE roleid = $1::regrole AND member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND inherit_option AND set_option`,
      [owner],
    );
    if (member.rowCount === 0) await client.query(`GRANT ${role} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
    // CREATE on the database: a migration may add a trusted extension (btree_gist in 007).
    const { rows: dbRows } = await client.query<{ name: string }>('SELECT current_database() AS name');
    await client.query(`GRANT CREATE ON DATABASE ${client.escapeIdentifier(dbRows[0].name)} TO ${role}`);
    const adopted = await adoptPublicObjects(client, role, keep);
    await client.query('COMMIT');
    return { created: !exists, adopted };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Hands the owner the public schema's tables, views, free-standing sequences, functions and types that the current login owns. */
async function adoptPublicObjects(client: ClientBase, role: string, keep: readonly string[]): Promise<string[]> {
  // A table's indexes, its owned sequences and its row type follow it; an extension's members stay the extension's.
  const { rows } = await client.query<{ kind: string; name: string }>(
    `WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user),
          ext AS (SELECT objid FROM pg_depend WHERE deptype = 'e')
     SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
            format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM me) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND c.oid NOT IN (SELECT objid FROM ext) AND NOT (c.relname = ANY($1::text[]))
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::regprocedure::text
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.proowner = (SELECT oid FROM me) AND p.oid NOT IN (SELECT objid FROM ext)
     UNION ALL
     SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, t.typname)
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typowner = (SELECT oid FROM me) AND t.typtype IN ('e', 'd', 'r') AND t.oid NOT IN (SELECT objid FROM ext)
      ORDER BY 1, 2`,
    [keep],
  );
  for (const { kind, name } of rows) await client.query(`ALTER ${kind} ${name} OWNER TO ${role}`);
  return rows.map((r) => `${r.kind.toLowerCase()} ${r.name}`);
}
