/**
 * One database role per client of the chat database, each with what its job needs and nothing
 * else (issue #15). The deploy step (lambda/database-roles) makes them; the stack (lib) names each
 * role's secret after it. The tables and columns come from the queries each client runs:
 * - link_preview: lambda/link-preview/preview-repository.ts (the cache row, and only that);
 * - provisioner: lambda/shared/hasura-membership.ts (users and memberships; reads rooms and bans
 *   to place a user, and is the role of the membership reconciler too);
 * - mcp: docker/mcp-server/src/backend/postgres (the ten tools);
 * - hasura: every chat table (its role permissions narrow them per user), TRIGGER for its
 *   event triggers, and its own catalog schema, which it owns.
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

export const CLIENT_ROLE_NAMES = Object.keys(CLIENT_ROLES) as ClientRoleName[];
