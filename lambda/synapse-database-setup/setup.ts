import { ClientBase, DatabaseError } from 'pg';

export interface SynapseDatabaseSpec {
  /** The login role Synapse connects as. */
  readonly roleName: string;
  readonly databaseName: string;
  /** The role's password (from its own Secrets Manager secret). */
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
 * Creates Synapse's role and database if they are missing. The database must be
 * UTF8 with C collation and ctype, made from template0, or Synapse refuses to
 * start; an existing database with other settings is a clear error, never
 * silently used. Safe to run any number of times; it also re-sets the role's
 * password so that it always matches the secret.
 *
 * Works as RDS's master user, which is not a superuser: that user may create
 * roles and databases, but PostgreSQL 16+ only lets it create a database owned
 * by another role once it is a member of that role, so it grants itself the role.
 */
export async function ensureSynapseDatabase(client: ClientBase, spec: SynapseDatabaseSpec): Promise<SynapseDatabaseResult> {
  for (const [key, value] of [['roleName', spec.roleName], ['databaseName', spec.databaseName]] as const) {
    if (!IDENTIFIER.test(value)) throw new Error(`${key} must be a lower-case SQL identifier (a-z, 0-9, _), got "${value}"`);
  }
  if (!spec.password || spec.password.includes('\0')) throw new Error('the Synapse database password is empty or contains a NUL character');
  const role = client.escapeIdentifier(spec.roleName);
  const database = client.escapeIdentifier(spec.databaseName);

  let roleCreated = false;
  const roleExists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [spec.roleName])).rowCount === 1;
  if (!roleExists) {
    roleCreated = await ignoring('42710', () => client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${client.escapeLiteral(spec.password)}`));
  }
  if (!roleCreated) await client.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${client.escapeLiteral(spec.password)}`);

  const member = await client.query<{ ok: boolean }>('SELECT pg_has_role(current_user, $1, \'SET\') AS ok', [spec.roleName]);
  if (!member.rows[0].ok) await client.query(`GRANT ${role} TO CURRENT_USER`);

  const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [spec.databaseName])).rowCount === 1;
  if (!exists) {
    // CREATE DATABASE cannot run in a transaction block, so it runs on its own; a concurrent creator is fine.
    const created = await ignoring('42P04', () =>
      client.query(`CREATE DATABASE ${database} OWNER ${role} ENCODING 'UTF8' LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`),
    );
    if (created) return { roleCreated, databaseCreated: true, ownerChanged: false };
  }
  return { roleCreated, databaseCreated: false, ...(await checkExisting(client, spec)) };
}

async function checkExisting(client: ClientBase, spec: SynapseDatabaseSpec): Promise<{ ownerChanged: boolean }> {
  const { rows } = await client.query<{ encoding: string; collate: string; ctype: string; owner: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, pg_get_userbyid(datdba) AS owner
       FROM pg_database WHERE datname = $1`,
    [spec.databaseName],
  );
  const db = rows[0];
  if (db.encoding !== 'UTF8' || db.collate !== 'C' || db.ctype !== 'C') {
    throw new Error(
      `database "${spec.databaseName}" exists with ENCODING ${db.encoding}, LC_COLLATE ${db.collate}, LC_CTYPE ${db.ctype}; ` +
        "Synapse needs ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'. If it holds no data, drop it and re-run; otherwise migrate it (see Synapse's docs/postgres.md).",
    );
  }
  if (db.owner === spec.roleName) return { ownerChanged: false };
  // Synapse creates its tables in the public schema, which PostgreSQL 15+ lets only the database owner write.
  await client.query(`ALTER DATABASE ${client.escapeIdentifier(spec.databaseName)} OWNER TO ${client.escapeIdentifier(spec.roleName)}`);
  return { ownerChanged: true };
}

/** Runs `statement`; returns false instead of throwing when it fails with `sqlState` (e.g. already exists). */
async function ignoring(sqlState: string, statement: () => Promise<unknown>): Promise<boolean> {
  try {
    await statement();
    return true;
  } catch (err) {
    if (err instanceof DatabaseError && err.code === sqlState) return false;
    throw err;
  }
}
