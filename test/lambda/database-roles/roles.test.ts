import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { ensureClientRoles, RoleCredentials } from '../../../lambda/database-roles/roles';
import { runMigrations } from '../../../lambda/migrations/runner';
import { CLIENT_ROLE_NAMES, ClientRoleName } from '../../../lambda/shared/client-roles';
import { connectAs, sqlState } from '../../support/postgres/connect';

/**
 * The roles step on real PostgreSQL 17 as RDS runs it (a master that is CREATEROLE, not superuser),
 * on a stack deployed before the roles existed (Hasura ran as the master and its catalog is the
 * master's) and on a new one (Hasura creates its catalog as its own role). What "Hasura does" is
 * shaped on graphql-engine's source: src-rsr/init_pg_source.sql (catalog, insert_event_log, not
 * SECURITY DEFINER), trigger.sql.shakespeare (CREATE OR REPLACE FUNCTION per trigger), mkTrigger
 * (CREATE TRIGGER when missing), dropTriggerOp (DROP FUNCTION ... CASCADE), and its catalog
 * migrations (ALTER TABLE on hdb_catalog tables).
 */
const tag = randomBytes(3).toString('hex');
const master = { name: `rds_master_${tag}`, password: 'master-password' };
const logins = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, { username: `${c}_${tag}`, password: `pw-${c}-${tag}` }])) as Record<ClientRoleName, RoleCredentials>;
const as = (c: ClientRoleName) => ({ name: logins[c].username, password: logins[c].password });
const databases = { upgraded: `roles_upgraded_${tag}`, fresh: `roles_fresh_${tag}` };
const trigger = 'hdb_catalog."notify_hasura_link_preview_INSERT"';

let superuser: Client;
const open: Client[] = [];
async function connect(user: { name: string; password: string }, database: string): Promise<Client> {
  const client = await connectAs(user, database);
  open.push(client);
  return client;
}

/** What graphql-engine's first start and metadata apply create, run by whoever Hasura connects as. */
async function hasuraCreatesItsCatalog(c: Client): Promise<void> {
  await c.query(`CREATE SCHEMA hdb_catalog`);
  await c.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public`);
  await c.query(`CREATE TABLE hdb_catalog.hdb_version (hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(), version text NOT NULL)`);
  await c.query(`CREATE TABLE hdb_catalog.hdb_metadata (id integer PRIMARY KEY, metadata json NOT NULL, resource_version integer NOT NULL DEFAULT 1)`);
  await c.query(`CREATE TABLE hdb_catalog.hdb_cron_events (id serial PRIMARY KEY, trigger_name text NOT NULL)`);
  await c.query(`CREATE TYPE hdb_catalog.hdb_status AS ENUM ('scheduled', 'delivered')`);
  await c.query(`CREATE TABLE hdb_catalog.event_log (id text PRIMARY KEY, schema_name text, table_name text, trigger_name text, payload jsonb, created_at timestamp DEFAULT now())`);
  await c.query(`CREATE FUNCTION hdb_catalog.insert_event_log(schema_name text, table_name text, trigger_name text, op text, row_data json) RETURNS text LANGUAGE plpgsql AS $$
                 DECLARE id text; BEGIN id := gen_random_uuid();
                   INSERT INTO hdb_catalog.event_log (id, schema_name, table_name, trigger_name, payload) VALUES (id, schema_name, table_name, trigger_name, json_build_object('op', op, 'data', row_data));
                   RETURN id; END $$`);
  await hasuraAppliesTheTrigger(c);
}

/** A metadata apply: the trigger function re-created (CREATE OR REPLACE), the trigger created when missing. */
async function hasuraAppliesTheTrigger(c: Client): Promise<void> {
  await c.query(`CREATE OR REPLACE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN PERFORM hdb_catalog.insert_event_log(CAST('public' AS text), CAST('chat_messages' AS text), CAST('link_preview' AS text), TG_OP,
                   json_build_object('old', NULL, 'new', row_to_json(NEW))); RETURN NULL; END $$`);
  const { rowCount } = await c.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'notify_hasura_link_preview_INSERT'`);
  if (rowCount === 0) await c.query(`CREATE TRIGGER "notify_hasura_link_preview_INSERT" AFTER INSERT ON public.chat_messages FOR EACH ROW EXECUTE PROCEDURE ${trigger}()`);
}

const post = (c: Client, user: string) => c.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT id, $1, 'hi' FROM chat_rooms WHERE name = 'Phenom Community' RETURNING id`, [user]);
const events = async (c: Client) => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM hdb_catalog.event_log`)).rows[0].n;

beforeAll(async () => {
  superuser = await connectAs(undefined);
  await superuser.query(`CREATE ROLE ${master.name} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${master.password}'`);
  for (const database of Object.values(databases)) {
    await superuser.query(`CREATE DATABASE ${database} OWNER ${master.name}`);
    const asMaster = await connect(master, database);
    await runMigrations(asMaster, { schemaOwner: `${master.name}_owner` });
    await asMaster.query(`INSERT INTO users (id, username) VALUES ('alice', 'alice'), ('agent', 'agent')`);
    await asMaster.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, u FROM chat_rooms, unnest(ARRAY['alice', 'agent']) u WHERE name = 'Phenom Community'`);
  }
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  for (const database of Object.values(databases)) await superuser.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  for (const role of [...Object.values(logins).map((l) => l.username), `${master.name}_owner`, master.name]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await superuser.end();
});

describe('a stack deployed before the roles: Hasura ran as the master, then connects as its role', () => {
  let asMaster: Client;
  beforeAll(async () => {
    asMaster = await connect(master, databases.upgraded);
    await hasuraCreatesItsCatalog(asMaster);
    await post(asMaster, 'alice');
  });

  it('hands the whole catalog to the Hasura role, and a second run changes nothing', async () => {
    const first = await ensureClientRoles(asMaster, logins);
    expect(first.catalog.present).toBe(true);
    expect(first.catalog.adopted).toEqual(
      expect.arrayContaining([
        'schema hdb_catalog',
        'table hdb_catalog.event_log',
        'table hdb_catalog.hdb_cron_events',
        'routine hdb_catalog.insert_event_log(text,text,text,text,json)',
        'routine hdb_catalog."notify_hasura_link_preview_INSERT"()',
        'type hdb_catalog.hdb_status',
      ]),
    );
    const { rows } = await asMaster.query<{ owner: string; n: number }>(
      `SELECT pg_get_userbyid(owner) AS owner, count(*)::int AS n FROM (
         SELECT relowner AS owner FROM pg_class WHERE relnamespace = 'hdb_catalog'::regnamespace
         UNION ALL SELECT proowner FROM pg_proc WHERE pronamespace = 'hdb_catalog'::regnamespace
         UNION ALL SELECT typowner FROM pg_type WHERE typnamespace = 'hdb_catalog'::regnamespace
         UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname = 'hdb_catalog') o GROUP BY 1`,
    );
    // Everything, indexes, the serial's sequence and the tables' row types included.
    expect(rows).toEqual([{ owner: logins.hasura.username, n: expect.any(Number) }]);
    expect((await ensureClientRoles(asMaster, logins)).catalog.adopted).toEqual([]);
  });

  it('Hasura as its role starts, migrates its catalog and re-applies its metadata; the chat schema stays out of its reach', async () => {
    const hasura = await connect(as('hasura'), databases.upgraded);
    await hasura.query(`CREATE SCHEMA IF NOT EXISTS hdb_catalog`);
    await hasura.query(`ALTER TABLE hdb_catalog.hdb_version ADD COLUMN cli_state jsonb NOT NULL DEFAULT '{}'`);
    await hasura.query(`INSERT INTO hdb_catalog.hdb_metadata (id, metadata) VALUES (1, '{}') ON CONFLICT (id) DO UPDATE SET resource_version = hdb_catalog.hdb_metadata.resource_version + 1`);
    await hasura.query(`INSERT INTO hdb_catalog.hdb_cron_events (trigger_name) VALUES ('cleanup')`);
    await hasuraAppliesTheTrigger(hasura);
    const before = await events(hasura);
    await post(hasura, 'alice');
    expect(await events(hasura)).toBe(before + 1);
    // Dropping a trigger from the metadata: its function goes, and the trigger with it.
    await hasura.query(`DROP FUNCTION IF EXISTS ${trigger}() CASCADE`);
    await hasuraAppliesTheTrigger(hasura);
    expect(await sqlState(() => hasura.query('ALTER TABLE chat_messages ADD COLUMN x int'))).toBe('42501');
    expect(await sqlState(() => hasura.query('CREATE TABLE public.mine (x int)'))).toBe('42501');
  });

  it('the engine still running as the master during the rollout keeps working on the catalog', async () => {
    const before = await events(asMaster);
    await post(asMaster, 'alice');
    expect(await events(asMaster)).toBe(before + 1);
    await asMaster.query(`UPDATE hdb_catalog.hdb_metadata SET resource_version = resource_version + 1 WHERE id = 1`);
  });

  it("mcp's insert fires the trigger as mcp and is logged; mcp still cannot read or delete the log", async () => {
    const mcp = await connect(as('mcp'), databases.upgraded);
    const before = await events(asMaster);
    await post(mcp, 'agent');
    expect(await events(asMaster)).toBe(before + 1);
    expect(await sqlState(() => mcp.query('SELECT * FROM hdb_catalog.event_log'))).toBe('42501');
    expect(await sqlState(() => mcp.query('DELETE FROM hdb_catalog.event_log'))).toBe('42501');
    expect(await sqlState(() => mcp.query('ALTER TABLE hdb_catalog.event_log ADD COLUMN x int'))).toBe('42501');
  });
});

describe('a new stack: Hasura creates its catalog as its own role, between the two runs of the step', () => {
  it('the first run finds no catalog; Hasura makes it; the run after the metadata step lets mcp post', async () => {
    const asMaster = await connect(master, databases.fresh);
    expect((await ensureClientRoles(asMaster, logins)).catalog).toEqual({ present: false, adopted: [] });
    const hasura = await connect(as('hasura'), databases.fresh);
    await hasuraCreatesItsCatalog(hasura);
    await post(hasura, 'alice');
    const mcp = await connect(as('mcp'), databases.fresh);
    expect(await sqlState(() => post(mcp, 'agent'))).toBe('42501');
    expect((await ensureClientRoles(asMaster, logins)).catalog).toEqual({ present: true, adopted: [] });
    await post(mcp, 'agent');
    expect(await events(hasura)).toBe(2);
  });
});

describe('bad input: a clear error and nothing made', () => {
  const before = async (c: Client) => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1`, [`%\\_${tag}x`])).rows[0].n;
  const withSuffix = (suffix: string) => Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, { username: `${c}_${tag}${suffix}`, password: 'pw' }])) as Record<ClientRoleName, RoleCredentials>;

  it('refuses a missing password, a shared username, the master as a client, and a missing table, before creating any role', async () => {
    const asMaster = await connect(master, databases.fresh);
    const ok = withSuffix('x');
    await expect(ensureClientRoles(asMaster, { ...ok, mcp: { username: 'mcp_x', password: '' } })).rejects.toThrow(/no username\/password for the mcp role/);
    await expect(ensureClientRoles(asMaster, { ...ok, mcp: ok.provisioner })).rejects.toThrow(/the provisioner and mcp roles have the same username/);
    await expect(ensureClientRoles(asMaster, { ...ok, hasura: { username: master.name, password: 'pw' } })).rejects.toThrow(/cannot be the master user/);
    const scratch = `roles_scratch_${tag}`;
    await superuser.query(`CREATE DATABASE ${scratch} OWNER ${master.name}`);
    try {
      const onScratch = await connect(master, scratch);
      await runMigrations(onScratch, { schemaOwner: `${master.name}_owner` });
      await onScratch.query('ALTER TABLE link_previews RENAME TO link_previews_gone');
      await expect(ensureClientRoles(onScratch, ok)).rejects.toThrow(/cannot make the client roles: no table link_previews in the public schema \(have the migrations run\?\)/);
      await onScratch.end();
    } finally {
      await superuser.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    }
    expect(await before(superuser)).toBe(0);
  });
});
