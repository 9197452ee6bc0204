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
    SYNAPSE_DB_ROLE: role,
    ...standInAwsEnv({ secretsManager: secrets.url }),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-synapse-database',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../../lambda/synapse-database-setup/index')) as unknown as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
  await admin.query(`DROP ROLE IF EXISTS "${role}_clone"`).catch(() => undefined);
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

  it('after a rotation the secret names the clone: the step sets its password and still reports the role', async () => {
    secrets.put(SECRET_ARN, JSON.stringify({ username: `${role}_clone`, password: 'rotated-clone-password-456' }));
    expect(await handler(event('Update'))).toEqual({ PhysicalResourceId: `synapse-database:${database}`, Data: { DatabaseName: database, RoleName: role } });
    const url = new URL(testServerUrl());
    Object.assign(url, { username: `${role}_clone`, password: 'rotated-clone-password-456', pathname: `/${database}` });
    const clone = new Client({ connectionString: url.toString() });
    await clone.connect();
    try {
      // The clone acts as the role in every session.
      expect((await clone.query('SELECT current_user')).rows[0].current_user).toBe(role);
    } finally {
      await clone.end();
    }
  });

  it('a secret naming another user, or no role configured: a clear failure, nothing changed', async () => {
    secrets.put(SECRET_ARN, JSON.stringify({ username: 'postgres', password: 'whatever-password-1' }));
    await expect(handler(event('Update'))).rejects.toThrow(new RegExp(`names user postgres: expected ${role} or ${role}_clone`));
    secrets.put(SECRET_ARN, JSON.stringify({ username: role, password: 'stand-in-password-123' }));
    delete process.env.SYNAPSE_DB_ROLE;
    try {
      await expect(handler(event('Update'))).rejects.toThrow(/SYNAPSE_DB_ROLE is not set/);
    } finally {
      process.env.SYNAPSE_DB_ROLE = role;
    }
  });

  it('a secret without a password is a clear failure', async () => {
    secrets.put(SECRET_ARN, JSON.stringify({ username: role }));
    await expect(handler(event('Update'))).rejects.toThrow(/has no username\/password/);
  });
});

describe('synapse-database-setup in import mode (an adopted homeserver)', () => {
  const ADOPTED_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-production-old-synapse-role-AbCdEf';
  const oldRole = `old_synapse_${tag}`;
  const oldDatabase = `old_synapse_db_${tag}`;
  const oldPassword = 'the-old-servers-password-1';
  const adoptEnv = { SYNAPSE_DB_MODE: 'import', SYNAPSE_SERVER_NAME: 'thephenom.app', SYNAPSE_DB_NAME: oldDatabase, SYNAPSE_DB_SECRET_ARN: ADOPTED_ARN };
  const passwordHash = async () => (await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [oldRole])).rows[0]?.rolpassword;

  beforeAll(async () => {
    await admin.query(`CREATE ROLE "${oldRole}" LOGIN PASSWORD '${oldPassword}'`);
    await admin.query(`CREATE DATABASE "${oldDatabase}" OWNER "${oldRole}" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    const url = new URL(testServerUrl());
    Object.assign(url, { username: oldRole, password: oldPassword, pathname: `/${oldDatabase}` });
    const old = new Client({ connectionString: url.toString() });
    await old.connect();
    await old.query("CREATE TABLE schema_version (lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE, version INTEGER NOT NULL, upgraded BOOL NOT NULL)");
    await old.query('INSERT INTO schema_version (version, upgraded) VALUES (92, true)');
    await old.query("CREATE TABLE users (name TEXT PRIMARY KEY); INSERT INTO users VALUES ('@alice:thephenom.app')");
    await old.end();
    secrets.put(ADOPTED_ARN, JSON.stringify({ username: oldRole, password: oldPassword }));
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${oldDatabase}" WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS "${oldRole}"`).catch(() => undefined);
  });

  it('checks the existing database as its own role and reports it, leaving the role and its password as they were', async () => {
    const before = await passwordHash();
    Object.assign(process.env, adoptEnv);
    try {
      const result = await handler({ ...event('Create'), ResourceProperties: { ServiceToken: 'x', DatabaseName: oldDatabase, Mode: 'import' } } as CloudFormationCustomResourceEvent);
      expect(result).toEqual({ PhysicalResourceId: `synapse-database:${oldDatabase}`, Data: { DatabaseName: oldDatabase, RoleName: oldRole } });
    } finally {
      for (const key of Object.keys(adoptEnv)) delete process.env[key];
      Object.assign(process.env, { SYNAPSE_DB_SECRET_ARN: SECRET_ARN, SYNAPSE_DB_NAME: database });
    }
    expect(await passwordHash()).toBe(before);
  });

  it("fails the deploy step, creating nothing, when the configured database is not the old server's", async () => {
    Object.assign(process.env, { ...adoptEnv, SYNAPSE_SERVER_NAME: 'chat.thephenom.app' });
    try {
      await expect(handler(event('Create'))).rejects.toThrow(/belongs to the homeserver "thephenom.app".*matrixServerName is "chat.thephenom.app"/);
    } finally {
      for (const key of Object.keys(adoptEnv)) delete process.env[key];
      Object.assign(process.env, { SYNAPSE_DB_SECRET_ARN: SECRET_ARN, SYNAPSE_DB_NAME: database });
    }
  });
});
