import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { entitlementsFor } from '../../../chat-domain/groups';
import { PostgresBackend } from '../../../docker/mcp-server/src/backend/postgres/backend';
import { ensureClientRoles, RoleCredentials } from '../../../lambda/database-roles/roles';
import { PreviewRepository } from '../../../lambda/link-preview/preview-repository';
import { runMigrations } from '../../../lambda/migrations/runner';
import { CLIENT_ROLE_NAMES, ClientRoleName } from '../../../lambda/shared/client-roles';
import { applyHasuraEntitlements } from '../../../lambda/shared/hasura-membership';
import { testServerUrl } from '../../support/postgres';
import { connectAs, sqlState } from '../../support/postgres/connect';
import { RoleSecret, rotateAlternatingUsers } from '../../support/postgres/rotation';

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
// Roles are cluster-wide and the server is shared by the run's test files: tagged role names.
const roleNames = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, `${c}_${tag}`])) as Record<ClientRoleName, string>;
const logins = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, { username: roleNames[c], password: `pw-${c}-${tag}` }])) as Record<ClientRoleName, RoleCredentials>;
const run = (c: Client, credentials: Record<ClientRoleName, RoleCredentials> = logins) => ensureClientRoles(c, credentials, { roleNames });
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
  for (const role of [...Object.values(roleNames).flatMap((r) => [`${r}_clone`, r]), `${master.name}_owner`, master.name]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
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
    const first = await run(asMaster);
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
    expect((await run(asMaster)).catalog.adopted).toEqual([]);
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

describe("after an alternating-users rotation: the secrets name each role's _clone (the stack above, rotated)", () => {
  let asMaster: Client;
  let rotated: Record<ClientRoleName, RoleSecret>;
  const clone = (c: ClientRoleName) => ({ name: `${roleNames[c]}_clone`, password: rotated[c].password });
  const poolAs = (user: { name: string; password: string }) => {
    const url = new URL(testServerUrl());
    Object.assign(url, { username: user.name, password: user.password, pathname: `/${databases.upgraded}` });
    const pool = new Pool({ connectionString: url.toString(), max: 2 });
    pools.push(pool);
    return pool;
  };
  const pools: Pool[] = [];
  afterAll(() => Promise.all(pools.filter((p) => !p.ended).map((p) => p.end())));

  beforeAll(async () => {
    asMaster = await connect(master, databases.upgraded);
    rotated = {} as Record<ClientRoleName, RoleSecret>;
    for (const c of CLIENT_ROLE_NAMES) await rotateAlternatingUsers(asMaster, { ...logins[c] }, (next) => (rotated[c] = next));
  });

  it('the step made each clone before the rotation (a member acting as its role), so the rotation only set its password', async () => {
    const { rows } = await asMaster.query<{ rolname: string; rolconfig: string[] }>(`SELECT rolname, rolconfig FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`, [
      CLIENT_ROLE_NAMES.map((c) => `${roleNames[c]}_clone`),
    ]);
    expect(rows).toEqual(CLIENT_ROLE_NAMES.map((c) => ({ rolname: `${roleNames[c]}_clone`, rolconfig: [`role=${roleNames[c]}`] })).sort((a, b) => a.rolname.localeCompare(b.rolname)));
  });

  it('re-runs cleanly, grants still to the roles, and sets only the clone passwords: the old logins keep working until the next rotation', async () => {
    const result = await run(asMaster, rotated);
    expect(result.roles).toEqual(Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, `${roleNames[c]}_clone`])));
    expect(result.catalog.adopted).toEqual([]);
    const { rows } = await asMaster.query<{ grantee: string }>(`SELECT DISTINCT grantee FROM information_schema.role_table_grants WHERE table_schema = 'public' AND grantee LIKE $1`, [`%\\_clone`]);
    expect(rows).toEqual([]);
    for (const c of CLIENT_ROLE_NAMES) {
      await (await connect(clone(c), databases.upgraded)).end();
      await (await connect(as(c), databases.upgraded)).end();
    }
  });

  it("each clone runs its client's query code and is refused the rest", async () => {
    const repository = new PreviewRepository(async () => poolAs(clone('link_preview')));
    await repository.save('p-rotated', 'https://x/p-rotated', { title: 'T', description: 'D', thumbnailUrl: null, mediaType: 'image' }, 1);
    expect(await repository.findFresh('p-rotated')).toMatchObject({ url: 'https://x/p-rotated' });
    const linkPreview = await connect(clone('link_preview'), databases.upgraded);
    expect(await sqlState(() => linkPreview.query(`UPDATE chat_messages SET content = 'x'`))).toBe('42501');
    expect(await sqlState(() => linkPreview.query('SELECT * FROM chat_bans'))).toBe('42501');

    const change = await applyHasuraEntitlements(poolAs(clone('provisioner')), { sub: 'erin', username: 'erin', displayName: 'Erin' }, entitlementsFor([]));
    expect(change.joined).toBeGreaterThan(0);
    const provisioner = await connect(clone('provisioner'), databases.upgraded);
    expect(await sqlState(() => post(provisioner, 'erin'))).toBe('42501');

    const backend = new PostgresBackend(poolAs(clone('mcp')), 'agent');
    try {
      const room = (await backend.listRooms()).find((r) => r.name === 'Phenom Community')!;
      const before = await events(asMaster);
      const sent = await backend.sendMessage({ roomId: room.id, content: 'after the rotation', messageType: 'text' });
      expect(await events(asMaster)).toBe(before + 1);
      await expect(backend.deleteMessage({ roomId: room.id, messageId: sent.id })).resolves.toMatchObject({ alreadyDeleted: false });
    } finally {
      await backend.close();
    }
    const mcp = await connect(clone('mcp'), databases.upgraded);
    expect(await sqlState(() => mcp.query('ALTER TABLE chat_rooms ADD COLUMN x int'))).toBe('42501');
    expect(await sqlState(() => mcp.query('SELECT * FROM hdb_catalog.event_log'))).toBe('42501');
  });

  it("what Hasura's clone creates in its catalog is the hasura role's, which can still drop and replace it", async () => {
    const hasuraClone = await connect(clone('hasura'), databases.upgraded);
    await hasuraClone.query(`CREATE TABLE hdb_catalog.hdb_schema_notifications (id integer PRIMARY KEY, notification json)`);
    await hasuraClone.query(`DROP FUNCTION ${trigger}() CASCADE`);
    await hasuraAppliesTheTrigger(hasuraClone);
    const { rows } = await asMaster.query<{ owner: string }>(
      `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'hdb_catalog.hdb_schema_notifications'::regclass
       UNION ALL SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = '${trigger}()'::regprocedure`,
    );
    expect(rows).toEqual([{ owner: roleNames.hasura }, { owner: roleNames.hasura }]);
    const hasura = await connect(as('hasura'), databases.upgraded);
    await hasuraAppliesTheTrigger(hasura);
    await hasura.query(`DROP TABLE hdb_catalog.hdb_schema_notifications`);
    expect(await sqlState(() => hasuraClone.query('ALTER TABLE chat_messages ADD COLUMN x int'))).toBe('42501');
  });

  it('the rotation after moves back to each role with a new password, and the step follows', async () => {
    const back = {} as Record<ClientRoleName, RoleSecret>;
    for (const c of CLIENT_ROLE_NAMES) await rotateAlternatingUsers(asMaster, rotated[c], (next) => (back[c] = next));
    expect((await run(asMaster, back)).roles).toEqual(roleNames);
    for (const c of CLIENT_ROLE_NAMES) {
      expect(await sqlState(() => connectAs(as(c), databases.upgraded))).toBe('28P01');
      await (await connect({ name: roleNames[c], password: back[c].password }, databases.upgraded)).end();
      await (await connect(clone(c), databases.upgraded)).end();
    }
  });

  it('a secret naming another user: a clear error, and no password changed', async () => {
    await expect(run(asMaster, { ...rotated, mcp: { username: `${roleNames.mcp}_old`, password: 'other' } })).rejects.toThrow(
      new RegExp(`the mcp role secret names user ${roleNames.mcp}_old: expected ${roleNames.mcp} or ${roleNames.mcp}_clone`),
    );
    await (await connect(clone('mcp'), databases.upgraded)).end();
  });
});

describe('a new stack: Hasura creates its catalog as its own role, between the two runs of the step', () => {
  it('the first run finds no catalog; Hasura makes it; the run after the metadata step lets mcp post', async () => {
    const asMaster = await connect(master, databases.fresh);
    expect((await run(asMaster)).catalog).toEqual({ present: false, adopted: [] });
    const hasura = await connect(as('hasura'), databases.fresh);
    await hasuraCreatesItsCatalog(hasura);
    await post(hasura, 'alice');
    const mcp = await connect(as('mcp'), databases.fresh);
    expect(await sqlState(() => post(mcp, 'agent'))).toBe('42501');
    expect((await run(asMaster)).catalog).toEqual({ present: true, adopted: [] });
    await post(mcp, 'agent');
    expect(await events(hasura)).toBe(2);
  });
});

describe('bad input: a clear error and nothing made', () => {
  const names = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, `${c}_${tag}x`])) as Record<ClientRoleName, string>;
  const made = async () => (await superuser.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1`, [`%\\_${tag}x%`])).rows[0].n;
  const ok = Object.fromEntries(CLIENT_ROLE_NAMES.map((c) => [c, { username: names[c], password: 'pw' }])) as Record<ClientRoleName, RoleCredentials>;
  const runX = (c: Client, credentials: Record<ClientRoleName, RoleCredentials>, roles = names) => ensureClientRoles(c, credentials, { roleNames: roles });

  it('refuses a missing password, a username that is neither the role nor its clone, two clients on one role, the master as a role, and a missing table, before creating any role', async () => {
    const asMaster = await connect(master, databases.fresh);
    await expect(runX(asMaster, { ...ok, mcp: { username: names.mcp, password: '' } })).rejects.toThrow(/no username\/password for the mcp role/);
    await expect(runX(asMaster, { ...ok, mcp: ok.provisioner })).rejects.toThrow(new RegExp(`the mcp role secret names user provisioner_${tag}x: expected mcp_${tag}x or mcp_${tag}x_clone`));
    await expect(runX(asMaster, { ...ok, mcp: { username: `${names.mcp}_clone_clone`, password: 'pw' } })).rejects.toThrow(/the mcp role secret names user .*_clone_clone/);
    await expect(runX(asMaster, { ...ok, mcp: ok.provisioner }, { ...names, mcp: names.provisioner })).rejects.toThrow(/the provisioner and mcp clients have the same role/);
    await expect(runX(asMaster, { ...ok, hasura: { username: master.name, password: 'pw' } }, { ...names, hasura: master.name })).rejects.toThrow(/cannot be the master user/);
    const scratch = `roles_scratch_${tag}`;
    await superuser.query(`CREATE DATABASE ${scratch} OWNER ${master.name}`);
    try {
      const onScratch = await connect(master, scratch);
      await runMigrations(onScratch, { schemaOwner: `${master.name}_owner` });
      await onScratch.query('ALTER TABLE link_previews RENAME TO link_previews_gone');
      await expect(runX(onScratch, ok)).rejects.toThrow(/cannot make the client roles: no table link_previews in the public schema \(have the migrations run\?\)/);
      await onScratch.end();
    } finally {
      await superuser.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
    }
    expect(await made()).toBe(0);
  });
});
