import { ClientBase, DatabaseError } from 'pg';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Runs `statement`; false when it failed with `sqlState` (a concurrent run did it first), true when it ran. */
export async function ignoring(sqlState: string, statement: () => Promise<unknown>): Promise<boolean> {
  try {
    await statement();
    return true;
  } catch (err) {
    if (err instanceof DatabaseError && err.code === sqlState) return false;
    throw err;
  }
}

/**
 * Makes `roleName` a login role whose password is `password`: created when missing, its password re-set
 * when present, so it always matches its secret (a rotated secret takes effect on the next run). Safe to
 * run concurrently and any number of times. Returns whether it created the role.
 *
 * `null` keeps the password as it is (a role created here then has none): after an alternating-users
 * rotation the secret names `<role>_clone`, and `<role>`'s own password, which clients may still hold
 * until the next rotation, is not the step's to change.
 */
export async function ensureLoginRole(client: ClientBase, roleName: string, password: string | null): Promise<boolean> {
  if (!IDENTIFIER.test(roleName)) throw new Error(`roleName must be a lower-case SQL identifier (a-z, 0-9, _), got "${roleName}"`);
  if (password !== null && (!password || password.includes('\0'))) throw new Error(`the password of role ${roleName} is empty or contains a NUL character`);
  const role = client.escapeIdentifier(roleName);
  const withPassword = password === null ? '' : ` PASSWORD ${client.escapeLiteral(password)}`;
  const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roleName])).rowCount === 1;
  const created = !exists && (await ignoring('42710', () => client.query(`CREATE ROLE ${role} LOGIN${withPassword}`)));
  if (!created) await client.query(`ALTER ROLE ${role} WITH LOGIN${withPassword}`);
  return created;
}

export interface ReadOnlyRoleSpec {
  readonly roleName: string;
  readonly password: string;
  /** Tables of the `public` schema the role may SELECT; it can read nothing else there. */
  readonly tables: readonly string[];
}

/**
 * A login role that can read exactly `tables` of the current database's public schema: CONNECT and
 * USAGE, SELECT on those tables, and any other privilege it was given on a public table revoked, so a
 * table dropped from the list stops being readable on the next run. One transaction: a table that does
 * not exist yet (Synapse creates its own at first start) fails the run with nothing half-granted.
 */
export async function ensureReadOnlyRole(client: ClientBase, spec: ReadOnlyRoleSpec): Promise<void> {
  for (const table of spec.tables) if (!IDENTIFIER.test(table)) throw new Error(`tables: expected lower-case SQL identifiers, got "${table}"`);
  await ensureLoginRole(client, spec.roleName, spec.password);
  const role = client.escapeIdentifier(spec.roleName);
  await client.query('BEGIN');
  try {
    const missing = (await client.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NULL`, [spec.tables])).rows.map((r) => r.t);
    if (missing.length > 0) throw new Error(`cannot grant ${spec.roleName} SELECT: no table ${missing.join(', ')} in the public schema of this database yet`);
    const { rows: granted } = await client.query<{ table_name: string }>(`SELECT DISTINCT table_name FROM information_schema.role_table_grants WHERE grantee = $1 AND table_schema = 'public'`, [
      spec.roleName,
    ]);
    for (const { table_name } of granted) {
      if (!spec.tables.includes(table_name)) await client.query(`REVOKE ALL ON public.${client.escapeIdentifier(table_name)} FROM ${role}`);
    }
    await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier((await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db)} TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    for (const table of spec.tables) {
      const t = `public.${client.escapeIdentifier(table)}`;
      // Only SELECT: anything else it was once given on a listed table goes too.
      await client.query(`REVOKE ALL ON ${t} FROM ${role}`);
      await client.query(`GRANT SELECT ON ${t} TO ${role}`);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** The second user of Secrets Manager's alternating-users rotation for `roleName`. */
export const rotationCloneName = (roleName: string): string => `${roleName}_clone`;

/** `roleName` and its rotation clone are both identifiers: refused before anything is created. */
function checkCloneable(roleName: string): void {
  if (!IDENTIFIER.test(roleName) || !IDENTIFIER.test(rotationCloneName(roleName))) throw new Error(`roleName must be a lower-case SQL identifier of at most 57 characters, got "${roleName}"`);
}

/**
 * A rotated secret (`what`) names either the role or its rotation clone, whichever the last rotation
 * left current; any other user is refused before anything is created.
 */
export function checkRotationLogin(what: string, roleName: string, username: string): void {
  checkCloneable(roleName);
  const clone = rotationCloneName(roleName);
  if (username !== roleName && username !== clone) throw new Error(`${what} names user ${username}: expected ${roleName} or ${clone}`);
}

/**
 * Prepares `<roleName>_clone`, the second user of Secrets Manager's alternating-users rotation, for a
 * role that owns objects (Synapse's tables, Hasura's catalog). Left to the rotation, the clone would be
 * created on the first rotation as a plain member of the role, and whatever it then created (Synapse
 * migrates its schema at start) would be owned by the clone, which the role itself cannot alter once
 * the rotation moves back to it. Made here, the clone logs in with no password until a rotation sets
 * one (the rotation finds it and only changes its password), is a member of the role, and acts as the
 * role in every session (`SET role`), so everything it creates belongs to the role. Idempotent.
 */
export async function ensureRotationClone(client: ClientBase, roleName: string): Promise<string> {
  const cloneName = rotationCloneName(roleName);
  checkCloneable(roleName);
  const role = client.escapeIdentifier(roleName);
  const clone = client.escapeIdentifier(cloneName);
  if ((await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roleName])).rowCount !== 1) throw new Error(`role ${roleName} does not exist: create it before its rotation clone`);
  const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [cloneName])).rowCount === 1;
  if (!exists) await ignoring('42710', () => client.query(`CREATE ROLE ${clone} LOGIN`));
  await client.query(`GRANT ${role} TO ${clone}`);
  await client.query(`ALTER ROLE ${clone} SET role TO ${client.escapeLiteral(roleName)}`);
  return cloneName;
}
