import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client } from 'pg';
import { databaseConfig } from '../shared/database';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { CLIENT_ROLE_NAMES, ClientRoleName } from '../shared/client-roles';
import { ensureClientRoles, RoleCredentials } from './roles';

/**
 * Custom resource (provider framework onEvent): the chat database's client roles (hasura,
 * link_preview, provisioner, mcp; chat-domain/client-roles.ts), as the RDS master user
 * (DB_SECRET_ARN). Each role's login is its own generated secret, named in the resource property
 * RoleSecretArns; the clients read only theirs. The stack runs it twice (property Phase): after
 * the migrations, before any client starts, and again after the Hasura metadata step, once
 * Hasura's event log and triggers exist (mcp's inserts fire them and need the event log).
 */
const logger = new Logger();
const { connectTimeoutMs, statementTimeoutMs, lockTimeoutMs } = DEPLOY_STEPS.databaseRoles;

export const DATABASE_ROLES_PHYSICAL_ID = 'phenom-chat-client-roles';

async function credentials(client: ClientRoleName, arn: unknown): Promise<RoleCredentials> {
  if (typeof arn !== 'string' || !arn) throw new Error(`RoleSecretArns.${client} is not set`);
  const secret = await getSecret<Partial<RoleCredentials>>(arn, { transform: 'json', forceFetch: true });
  if (!secret?.username || !secret.password) throw new Error(`the ${client} role secret ${arn} has no username/password`);
  return { username: secret.username, password: secret.password };
}

export async function handler(event: CloudFormationCustomResourceEvent) {
  const phase = String(event.ResourceProperties.Phase ?? 'roles');
  const physicalResourceId = `${DATABASE_ROLES_PHYSICAL_ID}:${phase}`;
  if (event.RequestType === 'Delete') {
    // Hasura's role owns its catalog, and dropping a role takes its grants from the running clients:
    // the roles go with the database, or by an operator's hand.
    logger.info('stack delete: the client roles are kept', { phase });
    return { PhysicalResourceId: physicalResourceId };
  }
  const arns = (event.ResourceProperties.RoleSecretArns ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(arns).filter((k) => !(CLIENT_ROLE_NAMES as string[]).includes(k));
  if (unknown.length > 0) throw new Error(`RoleSecretArns names no client role ${unknown.join(', ')} (the roles are ${CLIENT_ROLE_NAMES.join(', ')})`);
  const logins = Object.fromEntries(await Promise.all(CLIENT_ROLE_NAMES.map(async (name) => [name, await credentials(name, arns[name])] as const))) as Record<ClientRoleName, RoleCredentials>;

  const client = new Client({ ...(await databaseConfig()), connectionTimeoutMillis: connectTimeoutMs, statement_timeout: statementTimeoutMs, lock_timeout: lockTimeoutMs });
  await client.connect();
  try {
    const result = await ensureClientRoles(client, logins);
    logger.info('client roles ready', { phase, roles: result.roles, catalogPresent: result.catalog.present, catalogAdopted: result.catalog.adopted });
    return {
      PhysicalResourceId: physicalResourceId,
      Data: { Roles: CLIENT_ROLE_NAMES.map((n) => result.roles[n]).join(','), CatalogAdopted: String(result.catalog.adopted.length) },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
