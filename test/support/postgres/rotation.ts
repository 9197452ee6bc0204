import { randomBytes } from 'node:crypto';
import type { ClientBase } from 'pg';

/**
 * What Secrets Manager's hosted PostgreSQL rotation functions do to the database and the secret, for
 * tests that rotate while a client runs. Shaped as aws-samples/aws-secrets-manager-rotation-lambdas
 * (SecretsManagerRDSPostgreSQLRotation{SingleUser,MultiUser}/lambda_function.py): createSecret puts a
 * pending value, setSecret changes the database as the master user, finishSecret makes the pending value
 * current. The stand-in holds only AWSCURRENT, so `publish` is the finishSecret step.
 */
export interface RoleSecret {
  readonly username: string;
  readonly password: string;
  readonly [key: string]: unknown;
}

/** The rotation's second user: `<role>_clone`, and back (get_alt_username). */
export function alternateUsername(username: string): string {
  if (username.endsWith('_clone')) return username.slice(0, -'_clone'.length);
  if (username.length + '_clone'.length > 63) throw new Error(`cannot clone ${username}: the name would pass 63 characters`);
  return `${username}_clone`;
}

function newPassword(): string {
  return randomBytes(24).toString('hex');
}

/**
 * Alternating users: the next value names the other user with a new password; that user is created
 * (`CREATE ROLE ... LOGIN PASSWORD`, then `GRANT <current> TO <clone>`) on the first rotation and only
 * gets its password changed after that. The current user's password is left as it was.
 */
export async function rotateAlternatingUsers(master: ClientBase, current: RoleSecret, publish: (next: RoleSecret) => void): Promise<RoleSecret> {
  const next = { ...current, username: alternateUsername(current.username), password: newPassword() };
  const pending = master.escapeIdentifier(next.username);
  const exists = (await master.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [next.username])).rowCount === 1;
  if (exists) {
    await master.query(`ALTER USER ${pending} WITH PASSWORD ${master.escapeLiteral(next.password)}`);
  } else {
    await master.query(`CREATE ROLE ${pending} WITH LOGIN PASSWORD ${master.escapeLiteral(next.password)}`);
    await master.query(`GRANT ${master.escapeIdentifier(current.username)} TO ${pending}`);
  }
  publish(next);
  return next;
}

/** Single user: the same user, a new password, changed in the database before the secret is. */
export async function rotateSingleUser(master: ClientBase, current: RoleSecret, publish: (next: RoleSecret) => void): Promise<RoleSecret> {
  const next = { ...current, password: newPassword() };
  await master.query(`ALTER USER ${master.escapeIdentifier(next.username)} WITH PASSWORD ${master.escapeLiteral(next.password)}`);
  publish(next);
  return next;
}
