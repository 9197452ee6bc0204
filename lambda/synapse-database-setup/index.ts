import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client, PoolConfig } from 'pg';
import { databaseConfig, lazyPool } from '../shared/database';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ensureSynapseDatabase, verifyAdoptedSynapseDatabase } from './setup';

/**
 * Custom resource (provider framework onEvent): creates Synapse's role
 * (SYNAPSE_DB_ROLE), its rotation clone and its database on the RDS instance,
 * connecting as the master user (DB_SECRET_ARN). The login's credentials come
 * from SYNAPSE_DB_SECRET_ARN, the same secret the Synapse task reads its user
 * and password from; it names the role or its clone.
 *
 * With SYNAPSE_DB_MODE=import (an adopted homeserver) it creates and alters
 * nothing: it connects as the adopted role and checks the existing database.
 */
const logger = new Logger();
// allowExitOnIdle: an idle pool must not keep a process alive (tests, local runs); Lambda freezes it anyway.
// The statement and lock timeouts end a CREATE DATABASE stuck behind another session's use of
// template0 with Postgres' own error, well before the step's Lambda timeout.
const { connectTimeoutMs, statementTimeoutMs, lockTimeoutMs } = DEPLOY_STEPS.synapseDatabase;
const pool = lazyPool({ connectionTimeoutMillis: connectTimeoutMs, statement_timeout: statementTimeoutMs, lock_timeout: lockTimeoutMs, allowExitOnIdle: true });

export async function handler(event: CloudFormationCustomResourceEvent) {
  const databaseName = process.env.SYNAPSE_DB_NAME ?? 'synapse';
  const physicalResourceId = `synapse-database:${databaseName}`;
  if (event.RequestType === 'Delete') {
    // Dropping the database would destroy every room and message; removing the stack leaves it for an operator.
    logger.info('stack delete: the Synapse database and role are kept', { databaseName });
    return { PhysicalResourceId: physicalResourceId };
  }
  const secretArn = process.env.SYNAPSE_DB_SECRET_ARN;
  if (!secretArn) throw new Error('SYNAPSE_DB_SECRET_ARN is not set');
  const credentials = await getSecret<{ username?: string; password?: string }>(secretArn, { transform: 'json', forceFetch: true });
  if (!credentials?.username || !credentials.password) throw new Error(`the Synapse database secret ${secretArn} has no username/password`);

  if (process.env.SYNAPSE_DB_MODE === 'import') {
    const serverName = process.env.SYNAPSE_SERVER_NAME;
    if (!serverName) throw new Error('SYNAPSE_SERVER_NAME is not set');
    const master = await databaseConfig();
    const { username, password } = credentials;
    const result = await verifyAdoptedSynapseDatabase(
      async () => {
        const client = new Client({ ...asRole(master, username, password, databaseName), connectionTimeoutMillis: 10_000 });
        await client.connect();
        return client;
      },
      { roleName: credentials.username, databaseName, serverName },
    );
    logger.info('adopted Synapse database checked; nothing was changed', { databaseName, roleName: credentials.username, ...result });
    return { PhysicalResourceId: physicalResourceId, Data: { DatabaseName: databaseName, RoleName: credentials.username } };
  }

  // The role is fixed; the secret names it or, after every other rotation, its clone.
  const roleName = process.env.SYNAPSE_DB_ROLE;
  if (!roleName) throw new Error('SYNAPSE_DB_ROLE is not set');
  const client = await (await pool()).connect();
  try {
    const result = await ensureSynapseDatabase(client, { roleName, databaseName, username: credentials.username, password: credentials.password });
    logger.info('Synapse database ready', { databaseName, roleName, login: credentials.username, ...result });
  } finally {
    client.release();
  }
  return { PhysicalResourceId: physicalResourceId, Data: { DatabaseName: databaseName, RoleName: roleName } };
}

/** The master connection's server and TLS settings, as another role on another database. */
function asRole(master: PoolConfig, user: string, password: string, database: string): PoolConfig {
  if (master.connectionString) {
    // pg lets the URL win over separate fields, so rewrite the URL itself (local runs and tests).
    const url = new URL(master.connectionString);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    url.pathname = `/${database}`;
    return { ...master, connectionString: url.toString() };
  }
  return { ...master, user, password, database };
}
