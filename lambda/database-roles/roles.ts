import type { ClientBase } from 'pg';
import { CatalogAdoption, CLIENT_ROLE_NAMES, CLIENT_ROLES, ClientRoleName, adoptHasuraCatalog, checkClientRoleSpec, ensureClientRole, missingTables } from '../shared/client-roles';
import { checkRotationLogin, ensureLoginRole, ensureRotationClone } from '../shared/login-role';

/** A role's login, as its secret holds it. */
export interface RoleCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ClientRolesOptions {
  /**
   * The role of each client. Roles are cluster-wide, so tests that share a server give their own.
   * @default each client's spec name (hasura, link_preview, provisioner, mcp)
   */
  readonly roleNames?: Readonly<Record<ClientRoleName, string>>;
}

export interface ClientRolesResult {
  /** The user each client connects as: its role, or the role's rotation clone. */
  readonly roles: Readonly<Record<ClientRoleName, string>>;
  readonly catalog: CatalogAdoption;
}

const SPEC_NAMES = Object.fromEntries(CLIENT_ROLE_NAMES.map((name) => [name, name])) as Record<ClientRoleName, string>;

/**
 * Every client role of CLIENT_ROLES, as the master user: checked in full before anything changes
 * (one login per client, naming its role or the role's `_clone`, none the master's, every granted
 * table present), then the Hasura role, the hand-over of its catalog, and the others. Each role's
 * grants are one transaction; a run that fails part-way is repaired by the next, since every step
 * converges on the spec.
 *
 * Keyed by role, never by the secret's username: Secrets Manager's alternating-users rotation leaves
 * the secret naming `<role>_clone` every other time. Grants and the catalog always go to the role;
 * the clone is made here before any rotation (ensureRotationClone: a member that acts as the role, so
 * what it creates is the role's), and only the user the secret names gets its password set. The
 * other keeps the one clients may still hold, as the rotation left it.
 */
export async function ensureClientRoles(client: ClientBase, credentials: Readonly<Record<ClientRoleName, RoleCredentials>>, options: ClientRolesOptions = {}): Promise<ClientRolesResult> {
  const roles = options.roleNames ?? SPEC_NAMES;
  const master = (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user;
  const seen = new Map<string, ClientRoleName>();
  for (const name of CLIENT_ROLE_NAMES) {
    const login = credentials[name];
    const role = roles[name];
    if (!login?.username || !login.password) throw new Error(`no username/password for the ${name} role`);
    if (role === master) throw new Error(`the ${name} role cannot be the master user ${master}`);
    checkRotationLogin(`the ${name} role secret`, role, login.username);
    const other = seen.get(role);
    if (other) throw new Error(`the ${other} and ${name} clients have the same role ${role}`);
    seen.set(role, name);
    checkClientRoleSpec(role, CLIENT_ROLES[name]);
  }
  const missing = await missingTables(
    client,
    CLIENT_ROLE_NAMES.map((name) => CLIENT_ROLES[name]),
  );
  if (missing.length > 0) throw new Error(`cannot make the client roles: no table ${missing.join(', ')} in the public schema (have the migrations run?)`);

  const hasuraRole = roles.hasura;
  const ensure = async (name: ClientRoleName) => {
    const { username, password } = credentials[name];
    await ensureClientRole(client, roles[name], username === roles[name] ? password : null, CLIENT_ROLES[name], { hasuraRole });
    const clone = await ensureRotationClone(client, roles[name]);
    if (username === clone) await ensureLoginRole(client, clone, password);
  };
  await ensure('hasura');
  const catalog = await adoptHasuraCatalog(client, hasuraRole);
  for (const name of CLIENT_ROLE_NAMES.filter((n) => n !== 'hasura')) await ensure(name);
  return { roles: Object.fromEntries(CLIENT_ROLE_NAMES.map((name) => [name, credentials[name].username])) as Record<ClientRoleName, string>, catalog };
}
