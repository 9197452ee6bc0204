import type { ClientBase } from 'pg';
import { CatalogAdoption, CLIENT_ROLE_NAMES, CLIENT_ROLES, ClientRoleName, adoptHasuraCatalog, checkClientRoleSpec, ensureClientRole, missingTables } from '../shared/client-roles';

/** A role's login, as its secret holds it. */
export interface RoleCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ClientRolesResult {
  /** The role each client connects as. */
  readonly roles: Readonly<Record<ClientRoleName, string>>;
  readonly catalog: CatalogAdoption;
}

/**
 * Every client role of CLIENT_ROLES, as the master user: checked in full before anything changes
 * (one login per client, none the master's, every granted table present), then the Hasura role,
 * the hand-over of its catalog, and the others. Each role's grants are one transaction; a run that
 * fails part-way is repaired by the next, since every step converges on the spec.
 */
export async function ensureClientRoles(client: ClientBase, credentials: Readonly<Record<ClientRoleName, RoleCredentials>>): Promise<ClientRolesResult> {
  const master = (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user;
  const seen = new Map<string, ClientRoleName>();
  for (const name of CLIENT_ROLE_NAMES) {
    const login = credentials[name];
    if (!login?.username || !login.password) throw new Error(`no username/password for the ${name} role`);
    if (login.username === master) throw new Error(`the ${name} role cannot be the master user ${master}`);
    const other = seen.get(login.username);
    if (other) throw new Error(`the ${other} and ${name} roles have the same username ${login.username}`);
    seen.set(login.username, name);
    checkClientRoleSpec(login.username, CLIENT_ROLES[name]);
  }
  const missing = await missingTables(
    client,
    CLIENT_ROLE_NAMES.map((name) => CLIENT_ROLES[name]),
  );
  if (missing.length > 0) throw new Error(`cannot make the client roles: no table ${missing.join(', ')} in the public schema (have the migrations run?)`);

  const hasuraRole = credentials.hasura.username;
  await ensureClientRole(client, hasuraRole, credentials.hasura.password, CLIENT_ROLES.hasura, { hasuraRole });
  const catalog = await adoptHasuraCatalog(client, hasuraRole);
  for (const name of CLIENT_ROLE_NAMES.filter((n) => n !== 'hasura')) {
    await ensureClientRole(client, credentials[name].username, credentials[name].password, CLIENT_ROLES[name], { hasuraRole });
  }
  return { roles: Object.fromEntries(CLIENT_ROLE_NAMES.map((name) => [name, credentials[name].username])) as Record<ClientRoleName, string>, catalog };
}
