import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATIONS_TABLE, MigrationError, runMigrations } from '../../../lambda/migrations/runner';
import { connectAs, sqlState } from '../../support/postgres/connect';

/**
 * The chat schema's owner role on real PostgreSQL 17, with the migrations run as RDS runs them: by a
 * master that is CREATEROLE but not a superuser, owner of its database.
 */
const tag = randomBytes(3).toString('hex');
const master = { name: `rds_master_${tag}`, password: 'master-password' };
const owner = `${master.name}_owner`;
const client = { name: `some_client_${tag}`, password: 'client-password' };
const databases = { fresh: `owner_fresh_${tag}`, upgraded: `owner_upgraded_${tag}`, refused: `owner_refused_${tag}`, raceA: `owner_race_a_${tag}`, raceB: `owner_race_b_${tag}` };

let superuser: Client;
const open: Client[] = [];
async function connect(user: { name: string; password: string } | undefined, database: string): Promise<Client> {
  const c = await connectAs(user, database);
  open.push(c);
  return c;
}

/** Every object of the public schema with its owner, as `kind name -> owner`. */
async function publicOwners(c: Client): Promise<Record<string, string>> {
  const { rows } = await c.query<{ object: string; owner: string }>(
    `SELECT c.relkind::text || ' ' || c.relname AS object, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'i')
     UNION ALL
     SELECT 'f ' || p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
  );
  return Object.fromEntries(rows.map((r) => [r.object, r.owner]));
}

beforeAll(async () => {
  superuser = await connectAs(undefined);
  await superuser.query(`CREATE ROLE ${master.name} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${master.password}'`);
  for (const database of Object.values(databases)) await superuser.query(`CREATE DATABASE ${database} OWNER ${master.name}`);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  for (const database of Object.values(databases)) await superuser.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  for (const role of [client.name, owner, `${owner}_race`, `${owner}_login`, master.name]) await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await superuser.end();
});

describe('a new stack', () => {
  let asMaster: Client;
  beforeAll(async () => {
    asMaster = await connect(master, databases.fresh);
    await runMigrations(asMaster, { schemaOwner: owner });
  });

  it('puts every table, index, sequence and function of the chat schema under the NOLOGIN owner, the bookkeeping table under the login', async () => {
    const owners = await publicOwners(asMaster);
    const { [`r ${MIGRATIONS_TABLE}`]: bookkeeping, [`i ${MIGRATIONS_TABLE}_pkey`]: bookkeepingKey, ...chat } = owners;
    expect({ bookkeeping, bookkeepingKey }).toEqual({ bookkeeping: master.name, bookkeepingKey: master.name });
    expect(Object.keys(chat)).toEqual(expect.arrayContaining(['r chat_messages', 'r users', 'r chat_bans', 'f chat_set_updated_at', 'f chat_messages_enforce_rules']));
    expect(new Set(Object.values(chat))).toEqual(new Set([owner]));
    const { rows } = await asMaster.query(`SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1`, [owner]);
    expect(rows).toEqual([{ rolcanlogin: false, rolsuper: false, rolcreaterole: false }]);
  });

  it("lets the master grant on the owner's tables (the roles steps) and a granted client do only what it was granted", async () => {
    await asMaster.query(`CREATE ROLE ${client.name} LOGIN PASSWORD '${client.password}'`);
    await asMaster.query(`GRANT SELECT ON chat_rooms TO ${client.name}`);
    const asClient = await connect(client, databases.fresh);
    expect((await asClient.query('SELECT count(*)::int AS n FROM chat_rooms')).rows[0].n).toBeGreaterThan(0);
    expect(await sqlState(() => asClient.query('ALTER TABLE chat_rooms ADD COLUMN x int'))).toBe('42501');
    expect(await sqlState(() => asClient.query(`SET ROLE ${owner}`))).toBe('42501');
  });

  it('is a no-op on a second run', async () => {
    const before = await publicOwners(asMaster);
    await expect(runMigrations(asMaster, { schemaOwner: owner })).resolves.toMatchObject({ applied: [] });
    expect(await publicOwners(asMaster)).toEqual(before);
  });
});

describe('a stack migrated before the owner role existed', () => {
  it("hands the master's chat objects to the owner, and the master's bookkeeping stays the master's", async () => {
    const asMaster = await connect(master, databases.upgraded);
    await runMigrations(asMaster, { schemaOwner: owner });
    // As such a stack is: everything the master's (the superuser stands in for the old runner's ownership).
    const asSuper = await connect(undefined, databases.upgraded);
    await asSuper.query(`REASSIGN OWNED BY ${owner} TO ${master.name}`);
    await asMaster.query(`CREATE TYPE legacy_mood AS ENUM ('ok')`);
    expect(new Set(Object.values(await publicOwners(asMaster)))).toEqual(new Set([master.name]));

    await expect(runMigrations(asMaster, { schemaOwner: owner })).resolves.toMatchObject({ applied: [] });
    const { [`r ${MIGRATIONS_TABLE}`]: bookkeeping, [`i ${MIGRATIONS_TABLE}_pkey`]: _key, ...chat } = await publicOwners(asMaster);
    expect(bookkeeping).toBe(master.name);
    expect(new Set(Object.values(chat))).toEqual(new Set([owner]));
    const { rows } = await asMaster.query(`SELECT pg_get_userbyid(typowner) AS owner FROM pg_type WHERE typname = 'legacy_mood'`);
    expect(rows).toEqual([{ owner }]);
  });
});

describe('refused', () => {
  it('an owner role that can log in: a clear error, and nothing migrated', async () => {
    const loginOwner = `${owner}_login`;
    await superuser.query(`CREATE ROLE ${loginOwner} LOGIN`);
    const asMaster = await connect(master, databases.refused);
    const run = runMigrations(asMaster, { schemaOwner: loginOwner });
    await expect(run).rejects.toThrow(MigrationError);
    await expect(run).rejects.toThrow(`the schema owner ${loginOwner} exists and can log in; it must be a NOLOGIN role`);
    expect((await asMaster.query(`SELECT to_regclass('public.chat_messages') AS t`)).rows[0].t).toBeNull();
  });

  it('an owner name that is not a plain identifier', async () => {
    const asMaster = await connect(master, databases.refused);
    await expect(runMigrations(asMaster, { schemaOwner: 'Chat-Owner"; DROP' })).rejects.toThrow(/the schema owner must be a lower-case SQL identifier/);
  });
});

it('two databases migrated at once make the one owner role between them', async () => {
  const [a, b] = await Promise.all([connect(master, databases.raceA), connect(master, databases.raceB)]);
  const results = await Promise.all([runMigrations(a, { schemaOwner: `${owner}_race` }), runMigrations(b, { schemaOwner: `${owner}_race` })]);
  expect(results.map((r) => r.applied.length > 0)).toEqual([true, true]);
  for (const c of [a, b]) expect(new Set(Object.values(await publicOwners(c))).has(`${owner}_race`)).toBe(true);
});
