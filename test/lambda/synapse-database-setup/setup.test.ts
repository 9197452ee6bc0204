import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureSynapseDatabase, SynapseDatabaseSpec } from '../../../lambda/synapse-database-setup/setup';
import { testServerUrl } from '../../support/postgres';

/** A connection to the shared test server as `user` (the superuser by default). */
async function connect(user?: { name: string; password: string }, database = 'postgres'): Promise<Client> {
  const url = new URL(testServerUrl());
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

describe('ensureSynapseDatabase (real PostgreSQL 17)', () => {
  let admin: Client;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    admin = await connect();
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await admin.end();
  });

  function spec(): SynapseDatabaseSpec {
    const s = { roleName: unique('synapse'), databaseName: unique('synapse'), password: `pw-${randomBytes(8).toString('hex')}'"` };
    cleanup.push(() => admin.query(`DROP ROLE IF EXISTS "${s.roleName}"`));
    cleanup.push(() => admin.query(`DROP DATABASE IF EXISTS "${s.databaseName}" WITH (FORCE)`));
    return s;
  }

  it('creates the role and a UTF8 / C / C database from template0 that the role owns and can use', async () => {
    const s = spec();
    expect(await ensureSynapseDatabase(admin, s)).toEqual({ roleCreated: true, databaseCreated: true, ownerChanged: false });

    const { rows } = await admin.query(
      `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate, datctype, datlocprovider, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`,
      [s.databaseName],
    );
    expect(rows).toEqual([{ encoding: 'UTF8', datcollate: 'C', datctype: 'C', datlocprovider: 'c', owner: s.roleName }]);

    // Synapse connects with the password and creates its tables in public
    const synapse = await connect({ name: s.roleName, password: s.password }, s.databaseName);
    try {
      await synapse.query('CREATE TABLE public.schema_version (version INT)');
      expect((await synapse.query('SELECT current_user')).rows[0].current_user).toBe(s.roleName);
    } finally {
      await synapse.end();
    }
  });

  it('is idempotent: a second run creates nothing and keeps the password in step with the secret', async () => {
    const s = spec();
    await ensureSynapseDatabase(admin, s);
    expect(await ensureSynapseDatabase(admin, s)).toEqual({ roleCreated: false, databaseCreated: false, ownerChanged: false });

    const rotated = { ...s, password: 'rotated-password-123' };
    await ensureSynapseDatabase(admin, rotated);
    const synapse = await connect({ name: s.roleName, password: 'rotated-password-123' }, s.databaseName);
    await synapse.end();
  });

  it("works as an RDS-style master user (CREATEROLE CREATEDB, not superuser)", async () => {
    const master = { name: unique('rds_master'), password: 'master-password' };
    await admin.query(`CREATE ROLE "${master.name}" LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
    const s = spec();
    cleanup.push(() => admin.query(`DROP ROLE IF EXISTS "${master.name}"`));
    const asMaster = await connect(master);
    try {
      expect(await ensureSynapseDatabase(asMaster, s)).toEqual({ roleCreated: true, databaseCreated: true, ownerChanged: false });
      expect(await ensureSynapseDatabase(asMaster, s)).toEqual({ roleCreated: false, databaseCreated: false, ownerChanged: false });
    } finally {
      await asMaster.end();
    }
    const owner = await admin.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [s.databaseName]);
    expect(owner.rows[0].owner).toBe(s.roleName);
  });

  it('hands an existing, correctly-collated database to the role', async () => {
    const s = spec();
    await admin.query(`CREATE DATABASE "${s.databaseName}" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    expect(await ensureSynapseDatabase(admin, s)).toEqual({ roleCreated: true, databaseCreated: false, ownerChanged: true });
  });

  it('refuses an existing database with the wrong collation, and leaves it as it was', async () => {
    const s = spec();
    await admin.query(`CREATE DATABASE "${s.databaseName}" ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8' TEMPLATE template0`).catch(async () => {
      // the server's OS may lack en_US; SQL_ASCII is just as wrong for Synapse
      await admin.query(`CREATE DATABASE "${s.databaseName}" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    });
    await expect(ensureSynapseDatabase(admin, s)).rejects.toThrow(
      new RegExp(`database "${s.databaseName}" exists with ENCODING .*Synapse needs ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`),
    );
    const owner = await admin.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [s.databaseName]);
    expect(owner.rows[0].owner).not.toBe(s.roleName);
  });

  it('rejects names that are not plain identifiers and an empty password before touching the server', async () => {
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse"; DROP', databaseName: 'synapse', password: 'x' })).rejects.toThrow(/roleName must be a lower-case SQL identifier/);
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse', databaseName: 'Synapse', password: 'x' })).rejects.toThrow(/databaseName/);
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse_x', databaseName: 'synapse_x', password: '' })).rejects.toThrow(/password is empty/);
  });
});
