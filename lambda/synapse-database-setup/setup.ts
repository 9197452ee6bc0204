import { Client, ClientBase, DatabaseError } from 'pg';
import { checkRotationLogin, ensureLoginRole, ensureRotationClone, ignoring } from '../shared/login-role';

export interface SynapseDatabaseSpec {
  /** The role that owns Synapse's database and tables. */
  readonly roleName: string;
  readonly databaseName: string;
  /**
   * The login the secret names: the role, or its rotation clone `<roleName>_clone` (the
   * alternating-users rotation names the two in turn).
   * @default roleName
   */
  readonly username?: string;
  /** The password of `username` (from its own Secrets Manager secret). */
  readonly password: string;
}

export interface SynapseDatabaseResult {
  readonly roleCreated: boolean;
  readonly databaseCreated: boolean;
  /** True when an existing database had another owner and was handed to the role. */
  readonly ownerChanged: boolean;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates Synapse's role, its rotation clone and its database if they are missing. The database must
 * be UTF8 with C collation and ctype, made from template0, or Synapse refuses to start; an existing
 * database with other settings is a clear error, never silently used. Safe to run any number of
 * times; it also re-sets the password of the login the secret names so that it always matches.
 *
 * Keyed by the role, never by the secret's username: the alternating-users rotation leaves the secret
 * naming `<role>_clone` every other time. The clone (ensureRotationClone) is a member of the role that
 * acts as it in every session, so the tables Synapse creates under either login are the role's and
 * both logins can use them. Only the login the secret names gets its password set: the other keeps
 * the one a running Synapse may still hold, as the rotation left it.
 *
 * Works as RDS's master user, which is not a superuser: that user may create
 * roles and databases, but PostgreSQL 16+ only lets it create a database owned
 * by another role once it is a member of that role, so it grants itself the role.
 */
export async function ensureSynapseDatabase(client: ClientBase, spec: SynapseDatabaseSpec): Promise<SynapseDatabaseResult> {
  checkIdentifiers(spec);
  if (!spec.password || spec.password.includes('\0')) throw new Error('the Synapse database password is empty or contains a NUL character');
  const login = spec.username ?? spec.roleName;
  checkRotationLogin('the Synapse database secret', spec.roleName, login);
  const role = client.escapeIdentifier(spec.roleName);
  const database = client.escapeIdentifier(spec.databaseName);

  const roleCreated = await ensureLoginRole(client, spec.roleName, login === spec.roleName ? spec.password : null);
  const clone = await ensureRotationClone(client, spec.roleName);
  if (login === clone) await ensureLoginRole(client, clone, spec.password);

  const member = await client.query<{ ok: boolean }>("SELECT pg_has_role(current_user, $1, 'SET') AS ok", [spec.roleName]);
  if (!member.rows[0].ok) await client.query(`GRANT ${role} TO CURRENT_USER`);

  const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [spec.databaseName])).rowCount === 1;
  if (!exists) {
    // CREATE DATABASE cannot run in a transaction block, so it runs on its own; a concurrent creator is fine.
    const created = await ignoring('42P04', () => client.query(`CREATE DATABASE ${database} OWNER ${role} ENCODING 'UTF8' LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
    if (created) return { roleCreated, databaseCreated: true, ownerChanged: false };
  }
  return { roleCreated, databaseCreated: false, ...(await checkExisting(client, spec)) };
}

function checkIdentifiers(spec: { readonly roleName: string; readonly databaseName: string }): void {
  for (const [key, value] of [
    ['roleName', spec.roleName],
    ['databaseName', spec.databaseName],
  ] as const) {
    if (!IDENTIFIER.test(value)) throw new Error(`${key} must be a lower-case SQL identifier (a-z, 0-9, _), got "${value}"`);
  }
}

/** Throws unless the database has the encoding and collation Synapse insists on; returns its owner. */
async function checkLocale(client: ClientBase, databaseName: string): Promise<{ owner: string }> {
  const { rows } = await client.query<{ encoding: string; collate: string; ctype: string; owner: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, pg_get_userbyid(datdba) AS owner
       FROM pg_database WHERE datname = $1`,
    [databaseName],
  );
  const db = rows[0];
  if (db.encoding !== 'UTF8' || db.collate !== 'C' || db.ctype !== 'C') {
    throw new Error(
      `database "${databaseName}" exists with ENCODING ${db.encoding}, LC_COLLATE ${db.collate}, LC_CTYPE ${db.ctype}; ` +
        "Synapse needs ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'. If it holds no data, drop it and re-run; otherwise migrate it (see Synapse's docs/postgres.md).",
    );
  }
  return { owner: db.owner };
}

async function checkExisting(client: ClientBase, spec: SynapseDatabaseSpec): Promise<{ ownerChanged: boolean }> {
  const db = await checkLocale(client, spec.databaseName);
  if (db.owner === spec.roleName) return { ownerChanged: false };
  // Synapse creates its tables in the public schema, which PostgreSQL 15+ lets only the database owner write.
  await client.query(`ALTER DATABASE ${client.escapeIdentifier(spec.databaseName)} OWNER TO ${client.escapeIdentifier(spec.roleName)}`);
  return { ownerChanged: true };
}

/** Runs `statement`; returns false instead of throwing when it fails with `sqlState` (e.g. already exists). */
export interface AdoptedSynapseDatabaseSpec {
  /** The role the existing Synapse connects as (the adopted credentials secret's username). */
  readonly roleName: string;
  readonly databaseName: string;
  /** This stack's matrixServerName: the adopted database must be that server's. */
  readonly serverName: string;
}

export interface AdoptedSynapseDatabaseResult {
  /** Synapse's schema version in the database (its schema_version table). */
  readonly schemaVersion: number;
  /** Whether the database has users yet (a server that was set up but never used has none). */
  readonly hasUsers: boolean;
}

/**
 * Checks, without changing anything, that an existing database can be adopted: it exists with
 * Synapse's locale, the adopted role can log in to it with its secret, it holds a Synapse schema,
 * its users belong to `serverName` (Synapse refuses to start otherwise), and the role owns its
 * tables (Synapse's schema upgrades alter them). Everything runs as that role in a read-only
 * transaction, so no role, owner, password or row is touched: the old deployment stays usable for
 * a rollback. Throws a message that says what to change.
 *
 * `connect` opens a connection to `databaseName` as the adopted role.
 */
export async function verifyAdoptedSynapseDatabase(connect: () => Promise<Client>, spec: AdoptedSynapseDatabaseSpec): Promise<AdoptedSynapseDatabaseResult> {
  checkIdentifiers(spec);
  let client: Client;
  try {
    client = await connect();
  } catch (err) {
    throw new Error(adoptConnectError(err, spec), { cause: err });
  }
  try {
    await client.query('BEGIN READ ONLY');
    await checkLocale(client, spec.databaseName);
    const schema = await client.query<{ present: boolean }>("SELECT to_regclass('public.schema_version') IS NOT NULL AS present");
    if (!schema.rows[0].present) {
      throw new Error(
        `database "${spec.databaseName}" has no Synapse schema (no public.schema_version table): it is empty or not a Synapse database. ` +
          "Restore the old server's dump into it first, or point synapse.database.name at the database the old server uses.",
      );
    }
    const version = await client.query<{ version: number }>('SELECT version FROM schema_version');
    if (version.rowCount !== 1) throw new Error(`database "${spec.databaseName}": schema_version has ${version.rowCount} rows, Synapse keeps exactly one`);

    // The same check Synapse makes before it upgrades a database (check_database_before_upgrade).
    const user = await client.query<{ name: string }>('SELECT name FROM users LIMIT 1');
    if (user.rowCount === 1) {
      const owner = user.rows[0].name.slice(user.rows[0].name.indexOf(':') + 1);
      if (owner !== spec.serverName) {
        throw new Error(
          `database "${spec.databaseName}" belongs to the homeserver "${owner}" (its users are @…:${owner}), but matrixServerName is "${spec.serverName}". ` +
            "Synapse cannot change a server name: set matrixServerName to the old server's, or adopt that server's database.",
        );
      }
    }

    const foreign = await client.query<{ owner: string; tables: number }>(
      `SELECT tableowner AS owner, count(*)::int AS tables FROM pg_tables
        WHERE schemaname = 'public' AND NOT pg_has_role(current_user, tableowner, 'USAGE')
        GROUP BY tableowner ORDER BY tables DESC`,
    );
    if (foreign.rowCount) {
      const list = foreign.rows.map((r) => `${r.tables} owned by ${r.owner}`).join(', ');
      throw new Error(
        `role "${spec.roleName}" does not own the tables of database "${spec.databaseName}" (${list}); Synapse's schema upgrades alter its tables, which only their owner may do. ` +
          "Put the owner's credentials in the secret synapse.database.secretArn names.",
      );
    }
    return { schemaVersion: version.rows[0].version, hasUsers: user.rowCount === 1 };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** A connection failure as a sentence: the server's own message names no password. */
function adoptConnectError(err: unknown, spec: AdoptedSynapseDatabaseSpec): string {
  const code = err instanceof DatabaseError ? err.code : undefined;
  if (code === '3D000') {
    return `database "${spec.databaseName}" does not exist: synapse.database.mode "import" adopts an existing database and never creates one. Restore the old server's dump first, or fix synapse.database.name.`;
  }
  if (code === '28P01' || code === '28000') {
    return `cannot log in to database "${spec.databaseName}" as "${spec.roleName}" with the password in the synapse.database.secretArn secret (${(err as Error).message}).`;
  }
  return `cannot connect to database "${spec.databaseName}" as "${spec.roleName}": ${err instanceof Error ? err.message : String(err)}`;
}
