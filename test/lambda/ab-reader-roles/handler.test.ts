import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from 'pg';
import { HASURA_LITE_USAGE_TABLES, SYNAPSE_USAGE_TABLES } from '../../../lambda/ab-collector/usage';
import { runMigrations } from '../../../lambda/migrations/runner';
import { ensureSynapseDatabase } from '../../../lambda/synapse-database-setup/setup';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { customResourceEvent } from '../../support/cloudformation-event';
import { testServerUrl } from '../../support/postgres';
import { connectAs, sqlState } from '../../support/postgres/connect';
import { SYNAPSE_EVENTS_SCHEMA } from '../../support/synapse-events-schema';

type Handler = (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }>;

const tag = randomBytes(4).toString('hex');
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-${name}-AbCdEf`;
const ARNS = { chatReader: arn('ab-reader-chat'), synapseReader: arn('ab-reader-synapse'), synapseOwner: arn('synapse-database') };
/** RDS's master user: CREATEROLE and CREATEDB, not a superuser; it owns the chat tables (the migrations run as it). */
const master = { name: `rds_master_${tag}`, password: 'master-password-1' };
const synapseOwner = { name: `synapse_${tag}`, password: 'synapse-password-1' };
const chatReader = { name: `ab_reader_chat_${tag}`, password: 'chat-reader-password-1' };
const synapseReader = { name: `ab_reader_synapse_${tag}`, password: 'synapse-reader-password-1' };
const chatDatabase = `chat_${tag}`;
const synapseDatabase = `synapse_${tag}`;

let secrets: SecretsManagerStandIn;
let handler: Handler;
let superuser: Client;
const savedEnv = { ...process.env };

const event = (requestType: 'Create' | 'Update' | 'Delete') =>
  customResourceEvent({
    requestType,
    resourceType: 'Custom::AbReaderRoles',
    properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider' },
    extra: requestType === 'Create' ? {} : { PhysicalResourceId: 'ab-reader-roles' },
  });

const putSecrets = () => {
  secrets.put(ARNS.chatReader, JSON.stringify({ username: chatReader.name, password: chatReader.password }));
  secrets.put(ARNS.synapseReader, JSON.stringify({ username: synapseReader.name, password: synapseReader.password }));
  secrets.put(ARNS.synapseOwner, JSON.stringify({ username: synapseOwner.name, password: synapseOwner.password }));
};

const roleExists = async (name: string) => (await superuser.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;

/** The public tables `role` may SELECT, and whether it may write any table at all, as the catalog says. */
async function privileges(role: string, database: string): Promise<{ readable: string[]; writable: string[] }> {
  const client = await connectAs(undefined, database);
  try {
    const { rows } = await client.query<{ t: string; r: boolean; w: boolean }>(
      `SELECT table_name AS t, has_table_privilege($1, 'public.' || quote_ident(table_name), 'SELECT') AS r,
              has_table_privilege($1, 'public.' || quote_ident(table_name), 'INSERT, UPDATE, DELETE, TRUNCATE') AS w
         FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      [role],
    );
    return { readable: rows.filter((r) => r.r).map((r) => r.t), writable: rows.filter((r) => r.w).map((r) => r.t) };
  } finally {
    await client.end();
  }
}

/** What the role can really do on `database`, as itself. */
async function asRole<T>(role: { name: string; password: string }, database: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectAs(role, database);
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
  putSecrets();
  superuser = await connectAs();
  await superuser.query(`CREATE ROLE "${master.name}" LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
  await superuser.query(`CREATE DATABASE "${chatDatabase}" OWNER "${master.name}"`);
  await asRole(master, chatDatabase, (c) => runMigrations(c, { schemaOwner: `${master.name}_owner` }));
  await asRole(master, 'postgres', (c) => ensureSynapseDatabase(c, { roleName: synapseOwner.name, databaseName: synapseDatabase, password: synapseOwner.password }));
  // Synapse's first start: its own role creates its schema, with tables the collector must not read.
  await asRole(synapseOwner, synapseDatabase, async (c) => {
    await c.query(SYNAPSE_EVENTS_SCHEMA);
    await c.query('CREATE TABLE access_tokens (id bigint PRIMARY KEY, user_id text NOT NULL, token text NOT NULL)');
  });

  const masterUrl = new URL(testServerUrl());
  Object.assign(masterUrl, { username: master.name, password: master.password, pathname: '/postgres' });
  Object.assign(process.env, {
    // lambda/shared/database.ts: DATABASE_URL wins over DB_SECRET_ARN (the master connection; its path is rewritten per database).
    DATABASE_URL: masterUrl.toString(),
    DB_NAME: chatDatabase,
    SYNAPSE_DB_NAME: synapseDatabase,
    CHAT_READER_SECRET_ARN: ARNS.chatReader,
    SYNAPSE_READER_SECRET_ARN: ARNS.synapseReader,
    SYNAPSE_DB_SECRET_ARN: ARNS.synapseOwner,
    ...standInAwsEnv({ secretsManager: secrets.url }),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-ab-reader-roles',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../../lambda/ab-reader-roles/index')) as unknown as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  for (const db of [chatDatabase, synapseDatabase]) await superuser.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
  for (const role of [chatReader.name, synapseReader.name, `${synapseOwner.name}_clone`, synapseOwner.name, `${master.name}_owner`, master.name])
    await superuser.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  await Promise.all([superuser.end(), secrets.close()]);
});

describe('ab-reader-roles custom resource handler (real PostgreSQL 17, secrets from the Secrets Manager stand-in)', () => {
  describe('refuses bad input, making nothing', () => {
    afterEach(putSecrets);

    it.each([
      ['a reader secret without a password', ARNS.chatReader, { username: chatReader.name }],
      ['the Synapse secret without a username', ARNS.synapseOwner, { password: synapseOwner.password }],
    ])('%s', async (_, secretArn, value) => {
      secrets.put(secretArn, JSON.stringify(value));
      await expect(handler(event('Create'))).rejects.toThrow(`the secret ${secretArn} has no username/password`);
      expect([await roleExists(chatReader.name), await roleExists(synapseReader.name)]).toEqual([false, false]);
    });

    it.each([
      ['the chat database', 'DB_NAME'],
      ['the Synapse database', 'SYNAPSE_DB_NAME'],
    ])('%s missing', async (_, variable) => {
      const saved = process.env[variable];
      process.env[variable] = `missing_${tag}`;
      try {
        await expect(handler(event('Create'))).rejects.toThrow(`the database missing_${tag} (${variable}) does not exist`);
      } finally {
        process.env[variable] = saved;
      }
      expect([await roleExists(chatReader.name), await roleExists(synapseReader.name)]).toEqual([false, false]);
    });
  });

  it('Create makes both readers, which read exactly the usage tables and may write nothing', async () => {
    const asked = secrets.requests.length;
    expect(await handler(event('Create'))).toEqual({ PhysicalResourceId: 'ab-reader-roles', Data: { ChatReader: chatReader.name, SynapseReader: synapseReader.name } });
    // Read through the Secrets Manager API afresh on each run (forceFetch), never from a cache or the environment.
    expect(secrets.requests.slice(asked).sort()).toEqual(Object.values(ARNS).sort());

    expect(await privileges(chatReader.name, chatDatabase)).toEqual({ readable: [...HASURA_LITE_USAGE_TABLES].sort(), writable: [] });
    expect(await privileges(synapseReader.name, synapseDatabase)).toEqual({ readable: [...SYNAPSE_USAGE_TABLES].sort(), writable: [] });

    // And as the roles themselves: 42501 insufficient_privilege for everything else.
    await asRole(chatReader, chatDatabase, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM chat_messages')).rows).toEqual([{ n: 0 }]);
      expect(await sqlState(() => c.query('SELECT * FROM chat_schema_migrations'))).toBe('42501');
      expect(await sqlState(() => c.query('DELETE FROM chat_rooms'))).toBe('42501');
      expect(await sqlState(() => c.query('CREATE TABLE mine (x int)'))).toBe('42501');
    });
    await asRole(synapseReader, synapseDatabase, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM events')).rows).toEqual([{ n: 0 }]);
      expect(await sqlState(() => c.query('SELECT token FROM access_tokens'))).toBe('42501');
      expect(await sqlState(() => c.query("INSERT INTO room_aliases (room_alias, room_id) VALUES ('#a:b', '!r:b')"))).toBe('42501');
    });
  });

  it('Update applies a password changed in the secret, and changes nothing else', async () => {
    const rotated = { ...chatReader, password: 'chat-reader-password-2' };
    secrets.put(ARNS.chatReader, JSON.stringify({ username: rotated.name, password: rotated.password }));
    try {
      expect((await handler(event('Update'))).PhysicalResourceId).toBe('ab-reader-roles');
      expect(await sqlState(() => asRole(chatReader, chatDatabase, (c) => c.query('SELECT 1')))).toBe('28P01');
      const rooms = await asRole(master, chatDatabase, async (c) => (await c.query('SELECT count(*)::int AS n FROM chat_rooms')).rows);
      await asRole(rotated, chatDatabase, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM chat_rooms')).rows).toEqual(rooms));
      expect(await privileges(chatReader.name, chatDatabase)).toEqual({ readable: [...HASURA_LITE_USAGE_TABLES].sort(), writable: [] });
    } finally {
      putSecrets();
    }
  });

  it("after a rotation of Synapse's secret (it names the clone) the readers still follow the role's tables (SYNAPSE_DB_ROLE)", async () => {
    secrets.put(ARNS.synapseOwner, JSON.stringify({ username: `${synapseOwner.name}_clone`, password: 'synapse-clone-password-1' }));
    process.env.SYNAPSE_DB_ROLE = synapseOwner.name;
    try {
      expect((await handler(event('Update'))).PhysicalResourceId).toBe('ab-reader-roles');
      expect(await privileges(synapseReader.name, synapseDatabase)).toEqual({ readable: [...SYNAPSE_USAGE_TABLES].sort(), writable: [] });
      // Future tables are granted for the role that creates them (the clone acts as it), not for the clone.
      const owners = await asRole(master, synapseDatabase, async (c) => (await c.query<{ owner: string }>('SELECT DISTINCT pg_get_userbyid(defaclrole) AS owner FROM pg_default_acl')).rows);
      expect(owners).toEqual([{ owner: synapseOwner.name }]);
    } finally {
      delete process.env.SYNAPSE_DB_ROLE;
      putSecrets();
    }
  });

  it('Delete keeps the roles and what they may read', async () => {
    expect(await handler(event('Delete'))).toEqual({ PhysicalResourceId: 'ab-reader-roles' });
    expect([await roleExists(chatReader.name), await roleExists(synapseReader.name)]).toEqual([true, true]);
    expect((await privileges(synapseReader.name, synapseDatabase)).readable).toEqual([...SYNAPSE_USAGE_TABLES].sort());
  });
});
