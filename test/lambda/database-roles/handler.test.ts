import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from 'pg';
import { runMigrations } from '../../../lambda/migrations/runner';
import { CLIENT_ROLE_NAMES } from '../../../lambda/shared/client-roles';
import { standInAwsEnv } from '../../support/aws/sdk-env';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { connectAs, sqlState } from '../../support/postgres/connect';
import { testServerUrl } from '../../support/postgres';

type Handler = (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }>;

const tag = randomBytes(3).toString('hex');
const master = { name: `rds_master_${tag}`, password: 'master-password' };
const database = `roles_handler_${tag}`;
const arn = (client: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-development-db-${client.replace('_', '-')}-AbCdEf`;
const RoleSecretArns = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, arn(c)]));
// The handler keys each role by its spec name, so this file makes the real names (the only test file that does).
const username = (client: string) => client;
const rotationShaped = (client: string, password: string, user = username(client)) =>
  JSON.stringify({ engine: 'postgres', host: 'db.internal', port: 5432, dbname: database, username: user, password });

let secrets: SecretsManagerStandIn;
let handler: Handler;
let superuser: Client;
const savedEnv = { ...process.env };

const event = (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown> = { Phase: 'roles', RoleSecretArns }) =>
  customResourceEvent({
    requestType,
    resourceType: 'Custom::ChatClientRoles',
    properties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ...properties },
    extra: requestType === 'Create' ? {} : { PhysicalResourceId: 'phenom-chat-client-roles:roles' },
  });
const roleCount = async () => (await superuser.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)`, [CLIENT_ROLE_NAMES.map(username)])).rows[0].n;

beforeAll(async () => {
  secrets = await startSecretsManagerStandIn();
  for (const c of CLIENT_ROLE_NAMES) secrets.put(arn(c), rotationShaped(c, `first-${c}`));
  superuser = await connectAs(undefined);
  await superuser.query(`CREATE ROLE ${master.name} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${master.password}'`);
  await superuser.query(`CREATE DATABASE ${database} OWNER ${master.name}`);
  const url = new URL(testServerUrl());
  Object.assign(url, { username: master.name, password: master.password, pathname: `/${database}` });
  Object.assign(process.env, {
    // lambda/shared/database.ts: DATABASE_URL wins over the master secret.
    DATABASE_URL: url.toString(),
    ...standInAwsEnv({ secretsManager: secrets.url }),
    POWERTOOLS_SERVICE_NAME: 'phenom-test-database-roles',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('../../../lambda/database-roles/index')) as unknown as { handler: Handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await superuser.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  for (const role of [...CLIENT_ROLE_NAMES.flatMap((c) => [`${c}_clone`, c]), `${master.name}_owner`, master.name]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await Promise.all([superuser.end(), secrets.close()]);
});

describe('database-roles custom resource handler', () => {
  it('before the migrations: a clear error, and no role made', async () => {
    await expect(handler(event('Create'))).rejects.toThrow(/no table chat_bans, chat_members, chat_messages, chat_rooms, link_previews, users in the public schema \(have the migrations run\?\)/);
    expect(await roleCount()).toBe(0);
  });

  it('Create makes every role from its secret and reports them', async () => {
    const asMaster = await connectAs(master, database);
    await runMigrations(asMaster, { schemaOwner: `${master.name}_owner` });
    await asMaster.end();
    expect(await handler(event('Create'))).toEqual({ PhysicalResourceId: 'phenom-chat-client-roles:roles', Data: { Roles: CLIENT_ROLE_NAMES.map(username).join(','), CatalogAdopted: '0' } });
    const linkPreview = await connectAs({ name: username('link_preview'), password: 'first-link_preview' }, database);
    await linkPreview.query('SELECT count(*) FROM link_previews');
    expect(await sqlState(() => linkPreview.query('SELECT count(*) FROM chat_bans'))).toBe('42501');
    await linkPreview.end();
  });

  it('Update sets each password its secret now holds (a rotated secret takes effect on the next run)', async () => {
    secrets.put(arn('mcp'), rotationShaped('mcp', 'second-mcp'));
    expect((await handler(event('Update', { Phase: 'after-metadata', RoleSecretArns }))).PhysicalResourceId).toBe('phenom-chat-client-roles:after-metadata');
    expect(await sqlState(() => connectAs({ name: username('mcp'), password: 'first-mcp' }, database))).toBe('28P01');
    const mcp = await connectAs({ name: username('mcp'), password: 'second-mcp' }, database);
    await mcp.end();
  });

  it('after a rotation to the clone: re-runs cleanly, sets the clone password, leaves the role its own', async () => {
    secrets.put(arn('link_preview'), rotationShaped('link_preview', 'rotated-link_preview', 'link_preview_clone'));
    const { Data } = await handler(event('Update'));
    expect(Data?.Roles).toBe('hasura,link_preview_clone,provisioner,mcp');
    const clone = await connectAs({ name: 'link_preview_clone', password: 'rotated-link_preview' }, database);
    await clone.query('SELECT count(*) FROM link_previews');
    expect(await sqlState(() => clone.query('SELECT count(*) FROM chat_bans'))).toBe('42501');
    await clone.end();
    await (await connectAs({ name: 'link_preview', password: 'first-link_preview' }, database)).end();
  });

  it('Delete keeps the roles', async () => {
    expect(await handler(event('Delete'))).toEqual({ PhysicalResourceId: 'phenom-chat-client-roles:roles' });
    expect(await roleCount()).toBe(CLIENT_ROLE_NAMES.length);
  });

  it('a secret without a password, a missing or unknown client: clear errors, no password changed', async () => {
    secrets.put(arn('hasura'), JSON.stringify({ username: username('hasura') }));
    await expect(handler(event('Update'))).rejects.toThrow(/the hasura role secret .* has no username\/password/);
    const { mcp: _dropped, ...withoutMcp } = RoleSecretArns;
    await expect(handler(event('Update', { Phase: 'roles', RoleSecretArns: withoutMcp }))).rejects.toThrow(/RoleSecretArns.mcp is not set/);
    await expect(handler(event('Update', { Phase: 'roles', RoleSecretArns: { ...RoleSecretArns, synapse: arn('synapse') } }))).rejects.toThrow(/RoleSecretArns names no client role synapse/);
    secrets.put(arn('hasura'), rotationShaped('hasura', 'pw', 'hasura_clone'));
    secrets.put(arn('mcp'), rotationShaped('mcp', 'third-mcp', 'postgres'));
    await expect(handler(event('Update'))).rejects.toThrow(/the mcp role secret names user postgres: expected mcp or mcp_clone/);
    const mcp = await connectAs({ name: username('mcp'), password: 'second-mcp' }, database);
    await mcp.end();
    expect(await sqlState(() => connectAs({ name: 'hasura_clone', password: 'pw' }, database))).toBe('28P01');
  });
});
