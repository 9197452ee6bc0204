import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Client } from 'pg';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { testServerUrl } from '../../support/postgres';
import { standInAwsEnv } from '../../support/aws/sdk-env';

type Handler = (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }>;

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-synapse-database-AbCdEf';
const tag = randomBytes(4).toString('hex');
const role = `synapse_${tag}`;
const database = `synapse_db_${tag}`;

let secrets: SecretsManagerStandIn;
let handler: Handler;
let admin: Client;
const savedEnv = { ...process.env };

const event = (requestType: 'Create' | 'Update' | 'Delete') =>
  customResourceEvent({
    requestType,
    resourceType: 'Custom::SynapseDatabase',
    properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', DatabaseName: database },
    extra: requestType === 'Create' ? {} : { PhysicalResourceId: `synapse-database:${database}` },
  });

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
  secrets.put(SECRET_ARN, JSON.stringify({ username: role, password: 'stand-in-password-123' }));
  admin = new Client({ connectionString: testServerUrl() });
  await admin.connect();
  Object.assign(process.env, {
    // lambda/shared/database.ts: DATABASE_URL wins over the RDS secret (the master connection)
    DATABASE_URL: testServerUrl(),
    SYNAPSE_DB_SECRET_ARN: SECRET_ARN,
    SYNAPSE_DB_NAME: database,
    ...standInAwsEnv({ secretsManager: secrets.url }),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-synapse-database',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../../lambda/synapse-database-setup/index')) as unknown as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
  await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  await Promise.all([admin.end(), secrets.close()]);
});

describe('synapse-database-setup custom resource handler', () => {
  it('Create makes the role and database from the secret and reports them', async () => {
    expect(await handler(event('Create'))).toEqual({ PhysicalResourceId: `synapse-database:${database}`, Data: { DatabaseName: database, RoleName: role } });
    const { rows } = await admin.query('SELECT pg_get_userbyid(datdba) AS owner, datcollate FROM pg_database WHERE datname = $1', [database]);
    expect(rows).toEqual([{ owner: role, datcollate: 'C' }]);
  });

  it('Update is idempotent', async () => {
    expect((await handler(event('Update'))).PhysicalResourceId).toBe(`synapse-database:${database}`);
    expect((await admin.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [database])).rows[0].n).toBe(1);
  });

  it('Delete keeps the database and its data', async () => {
    expect(await handler(event('Delete'))).toEqual({ PhysicalResourceId: `synapse-database:${database}` });
    expect((await admin.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [database])).rows[0].n).toBe(1);
  });

  it('a secret without a password is a clear failure', async () => {
    secrets.put(SECRET_ARN, JSON.stringify({ username: role }));
    await expect(handler(event('Update'))).rejects.toThrow(/has no username\/password/);
  });
});
