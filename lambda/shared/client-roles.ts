import type { ClientBase } from 'pg';
import { ensureLoginRole } from './login-role';

/**
 * One database role per client of the chat database, each with what its job needs and nothing
 * else (issue #15). The tables and columns come from the queries each client runs:
 * - link_preview: lambda/link-preview/preview-repository.ts (the cache row, and only that);
 * - provisioner: lambda/shared/hasura-membership.ts (users and memberships; reads rooms and bans
 *   to place a user, and is the role of the membership reconciler too);
 * - mcp: docker/mcp-server/src/backend/postgres (the ten tools);
 * - hasura: every chat table (its role permissions narrow them per user), TRIGGER for its
 *   event triggers, and its own catalog schema.
 *
 * Hasura's event-trigger functions (hdb_catalog.insert_event_log, graphql-engine's
 * src-rsr/init_pg_source.sql) are not SECURITY DEFINER: they run as whoever inserts the row. So a
 * client that inserts chat_messages outside Hasura (mcp) also needs to write hdb_catalog.event_log,
 * or its insert fails once the link-preview trigger exists. `eventLogWriter` grants exactly that.
 */
export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRIGGER';

export interface TableGrant {
  readonly privileges: readonly TablePrivilege[];
  /** UPDATE limited to these columns (the table-level UPDATE is then not granted). */
  readonly updateColumns?: readonly string[];
}

export interface ClientRoleSpec {
  /** Grants on tables of the public schema; the role gets nothing on any other table there. */
  readonly tables: Readonly<Record<string, TableGrant>>;
  /** May create schemas in the database (Hasura creates and owns hdb_catalog). */
  readonly createSchemas?: boolean;
  /** May write Hasura's event log, because its inserts fire Hasura's event triggers (see above). */
  readonly eventLogWriter?: boolean;
}

const READ: TableGrant = { privileges: ['SELECT'] };
const DML: TableGrant = { privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] };

export const CLIENT_ROLES = {
  hasura: {
    tables: {
      users: DML,
      chat_rooms: DML,
      chat_members: DML,
      chat_bans: DML,
      link_previews: DML,
      chat_messages: { privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRIGGER'] },
    },
    createSchemas: true,
  },
  link_preview: {
    tables: { link_previews: { privileges: ['SELECT', 'INSERT', 'UPDATE'] } },
  },
  provisioner: {
    tables: {
      users: { privileges: ['SELECT', 'INSERT', 'UPDATE'] },
      chat_members: DML,
      chat_rooms: READ,
      chat_bans: READ,
    },
  },
  mcp: {
    tables: {
      chat_rooms: READ,
      users: READ,
      link_previews: READ,
      chat_messages: { privileges: ['SELECT', 'INSERT', 'UPDATE'], updateColumns: ['is_deleted', 'deleted_by'] },
      chat_members: { privileges: ['SELECT', 'UPDATE'], updateColumns: ['is_muted', 'muted_until'] },
      chat_bans: { privileges: ['SELECT', 'INSERT', 'DELETE'] },
    },
    eventLogWriter: true,
  },
} as const satisfies Record<string, ClientRoleSpec>;

export type ClientRoleName = keyof typeof CLIENT_ROLES;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Makes `roleName` a login role with `password` and exactly the privileges of `spec` on the public
 * schema: whatever else it holds on a public table is revoked, so a privilege dropped from the spec
 * goes on the next run. Runs in one transaction (nothing half-granted), any number of times.
 */
export interface EnsureClientRoleOptions {
  /** The role Hasura connects as, which owns hdb_catalog (for `eventLogWriter`). @default 'hasura' */
  readonly hasuraRole?: string;
}

export async function ensureClientRole(client: ClientBase, roleName: string, password: string, spec: ClientRoleSpec, options: EnsureClientRoleOptions = {}): Promise<void> {
  const hasuraRole = options.hasuraRole ?? 'hasura';
  if (!IDENTIFIER.test(hasuraRole)) throw new Error(`hasuraRole must be a lower-case SQL identifier, got "${hasuraRole}"`);
  for (const [table, grant] of Object.entries(spec.tables)) {
    for (const name of [table, ...(grant.updateColumns ?? [])]) {
      if (!IDENTIFIER.test(name)) throw new Error(`${roleName}: expected lower-case SQL identifiers, got "${name}"`);
    }
    if (grant.updateColumns && !grant.privileges.includes('UPDATE')) throw new Error(`${roleName}: updateColumns on ${table} without UPDATE`);
  }
  await ensureLoginRole(client, roleName, password);
  const role = client.escapeIdentifier(roleName);
  await client.query('BEGIN');
  try {
    const tables = Object.keys(spec.tables);
    const missing = (await client.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NULL`, [tables])).rows.map((r) => r.t);
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
