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

async function withClient<T>(database: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(database);
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
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

  await withClient(chatDatabase, (client) => ensureReadOnlyRole(client, { roleName: chatReader.username, password: chatReader.password, tables: HASURA_LITE_USAGE_TABLES }));
  const synapse = await withClient(synapseDatabase, (client) =>
    ensureFutureTablesReader(client, { roleName: synapseReader.username, password: synapseReader.password, tableOwner: synapseOwner.username, tables: SYNAPSE_USAGE_TABLES }),
  );
  logger.info('A/B reader roles ready', { chatReader: chatReader.username, synapseReader: synapseReader.username, synapse });
  return { PhysicalResourceId: physicalResourceId, Data: { ChatReader: chatReader.username, SynapseReader: synapseReader.username } };
}
