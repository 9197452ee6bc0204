import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client, PoolConfig } from 'pg';
import { HASURA_LITE_USAGE_TABLES, SYNAPSE_USAGE_TABLES } from '../ab-collector/usage';
import { databaseConfig } from '../shared/database';
import { ensureReadOnlyRole } from '../shared/login-role';
import { ensureFutureTablesReader } from './setup';

/**
 * Custom resource (provider framework onEvent): the A/B collector's two read-only roles, as the RDS
 * master user (DB_SECRET_ARN). On the chat database the role reads what hasuraLiteUsage reads; on
 * Synapse's database, what synapseUsage reads, including tables Synapse creates after this step.
 * Each role's password is its own generated secret; the collector never sees the master secret.
 */
const logger = new Logger();

interface Credentials {
  readonly username: string;
  readonly password: string;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function credentials(arn: string): Promise<Credentials> {
  const secret = await getSecret<Partial<Credentials>>(arn, { transform: 'json', forceFetch: true });
  if (!secret?.username || !secret.password) throw new Error(`the secret ${arn} has no username/password`);
  return { username: secret.username, password: secret.password };
}

const LIMITS = { connectionTimeoutMillis: 10_000, statement_timeout: 30_000, lock_timeout: 10_000 };

/** The master connection on `database`; a URL (local runs, tests) has its path rewritten, since pg lets the URL win. */
async function connect(database: string): Promise<Client> {
  const master = await databaseConfig();
  let config: PoolConfig = { ...master, database };
  if (master.connectionString) {
    const url = new URL(master.connectionString);
    url.pathname = `/${database}`;
    config = { connectionString: url.toString() };
  }
  const client = new Client({ ...config, ...LIMITS });
  await client.connect();
  return client;
}

/** The master connection on `database`, or a clear error when it is missing (the config or an earlier step is wrong). */
async function open(database: string, variable: string): Promise<Client> {
  try {
    return await connect(database);
  } catch (err) {
    // 3D000 invalid_catalog_name: the server says the database does not exist.
    if ((err as { code?: string }).code === '3D000') throw new Error(`the database ${database} (${variable}) does not exist: has the step that creates it run?`, { cause: err });
    throw err;
  }
}

export async function handler(event: CloudFormationCustomResourceEvent) {
  const physicalResourceId = 'ab-reader-roles';
  if (event.RequestType === 'Delete') {
    // The roles own nothing and read only; an operator drops them with the databases they read.
    logger.info('stack delete: the A/B reader roles are kept');
    return { PhysicalResourceId: physicalResourceId };
  }
  const chatDatabase = env('DB_NAME');
  const synapseDatabase = env('SYNAPSE_DB_NAME');
  const [chatReader, synapseReader, synapseOwner] = await Promise.all([
    credentials(env('CHAT_READER_SECRET_ARN')),
    credentials(env('SYNAPSE_READER_SECRET_ARN')),
    credentials(env('SYNAPSE_DB_SECRET_ARN')),
  ]);

  // Both connections before any change: a missing database fails the step with nothing made on the other.
  const chat = await open(chatDatabase, 'DB_NAME');
  let synapseClient: Client | undefined;
  try {
    synapseClient = await open(synapseDatabase, 'SYNAPSE_DB_NAME');
    await ensureReadOnlyRole(chat, { roleName: chatReader.username, password: chatReader.password, tables: HASURA_LITE_USAGE_TABLES });
    const synapse = await ensureFutureTablesReader(synapseClient, {
      roleName: synapseReader.username,
      password: synapseReader.password,
      // The role, not the login: after a rotation the secret names the role's clone, which owns nothing.
      tableOwner: process.env.SYNAPSE_DB_ROLE || synapseOwner.username,
      tables: SYNAPSE_USAGE_TABLES,
    });
    logger.info('A/B reader roles ready', { chatReader: chatReader.username, synapseReader: synapseReader.username, synapse });
  } finally {
    await Promise.all([chat.end(), synapseClient?.end()].map((p) => p?.catch(() => undefined)));
  }
  return { PhysicalResourceId: physicalResourceId, Data: { ChatReader: chatReader.username, SynapseReader: synapseReader.username } };
}
