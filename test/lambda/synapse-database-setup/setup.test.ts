import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureSynapseDatabase, SynapseDatabaseSpec, verifyAdoptedSynapseDatabase } from '../../../lambda/synapse-database-setup/setup';
import { connectAs } from '../../support/postgres/connect';

const connect = connectAs;

const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/** Runs `run` on a connection to `database` as `user` (the superuser when undefined), then closes it. */
async function using<T>(user: { name: string; password: string } | undefined, database: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(user, database);
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

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
    cleanup.push(() => admin.query(`DROP ROLE IF EXISTS "${s.roleName}_clone"`));
    cleanup.push(() => admin.query(`DROP DATABASE IF EXISTS "${s.databaseName}" WITH (FORCE)`));
    return s;
  }

  it('creates the role and a UTF8 / C / C database from template0 that the role owns and can use', async () => {
    const s = spec();
    expect(await ensureSynapseDatabase(admin, s)).toEqual({ roleCreated: true, databaseCreated: true, ownerChanged: false });

    const { rows } = await admin.query(`SELECT pg_encoding_to_char(encoding) AS encoding, datcollate, datctype, datlocprovider, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`, [
      s.databaseName,
    ]);
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

  it("makes the rotation clone: once the secret names it, Synapse under either login uses the role's tables", async () => {
    const s = spec();
    await ensureSynapseDatabase(admin, s);
    const clone = `${s.roleName}_clone`;
    // Synapse's first start, as the role: its schema and a row.
    await using({ name: s.roleName, password: s.password }, s.databaseName, async (c) => {
      await c.query('CREATE TABLE public.events (event_id TEXT PRIMARY KEY, body TEXT)');
      await c.query("INSERT INTO public.events VALUES ('$1', 'before the rotation')");
    });

    // The rotation names the clone with a new password; the step follows it and leaves the role's alone.
    const rotated = { ...s, username: clone, password: `clone-${randomBytes(8).toString('hex')}` };
    expect(await ensureSynapseDatabase(admin, rotated)).toEqual({ roleCreated: false, databaseCreated: false, ownerChanged: false });
    await using({ name: clone, password: rotated.password }, s.databaseName, async (c) => {
      expect((await c.query('SELECT current_user, session_user')).rows[0]).toEqual({ current_user: s.roleName, session_user: clone });
      await c.query("INSERT INTO public.events VALUES ('$2', 'after the rotation')");
      await c.query("UPDATE public.events SET body = 'edited' WHERE event_id = '$1'");
      expect((await c.query('SELECT count(*)::int AS n FROM public.events')).rows[0].n).toBe(2);
      // A schema upgrade under the clone: the new table is the role's, and the role may alter the old one.
      await c.query('CREATE TABLE public.receipts (room_id TEXT)');
      await c.query('ALTER TABLE public.events ADD COLUMN room_id TEXT');
    });
    const owners = await using(undefined, s.databaseName, async (c) => (await c.query("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows);
    expect(owners).toEqual([
      { tablename: 'events', tableowner: s.roleName },
      { tablename: 'receipts', tableowner: s.roleName },
    ]);

    // The role's own login still works (a task started before the rotation holds it), and can use what the clone made.
    await using({ name: s.roleName, password: s.password }, s.databaseName, async (c) => {
      await c.query("INSERT INTO public.receipts VALUES ('!room')");
      await c.query('DROP TABLE public.receipts');
    });

    // And the next rotation, back to the role, works the same way round.
    const back = { ...s, password: `role-${randomBytes(8).toString('hex')}` };
    await ensureSynapseDatabase(admin, back);
    await using({ name: s.roleName, password: back.password }, s.databaseName, async () => undefined);
    await using({ name: clone, password: rotated.password }, s.databaseName, async () => undefined);
  });

  it('refuses a secret that names neither the role nor its clone, before touching the server', async () => {
    const s = spec();
    await expect(ensureSynapseDatabase(admin, { ...s, username: 'postgres' })).rejects.toThrow(new RegExp(`names user postgres: expected ${s.roleName} or ${s.roleName}_clone`));
    await expect(ensureSynapseDatabase(admin, { ...s, roleName: 'r'.repeat(58) })).rejects.toThrow(/at most 57 characters/);
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [s.roleName])).rowCount).toBe(0);
  });

  it('works as an RDS-style master user (CREATEROLE CREATEDB, not superuser)', async () => {
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
    await expect(ensureSynapseDatabase(admin, s)).rejects.toThrow(new RegExp(`database "${s.databaseName}" exists with ENCODING .*Synapse needs ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`));
    const owner = await admin.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [s.databaseName]);
    expect(owner.rows[0].owner).not.toBe(s.roleName);
  });

  it('rejects names that are not plain identifiers and an empty password before touching the server', async () => {
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse"; DROP', databaseName: 'synapse', password: 'x' })).rejects.toThrow(/roleName must be a lower-case SQL identifier/);
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse', databaseName: 'Synapse', password: 'x' })).rejects.toThrow(/databaseName/);
    await expect(ensureSynapseDatabase(admin, { roleName: 'synapse_x', databaseName: 'synapse_x', password: '' })).rejects.toThrow(/password is empty/);
  });
});

describe("verifyAdoptedSynapseDatabase: adopting an existing homeserver's database (real PostgreSQL 17)", () => {
  let admin: Client;
  const cleanup: Array<() => Promise<unknown>> = [];
  const SERVER = 'thephenom.app';

  beforeAll(async () => {
    admin = await connect();
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await admin.end();
  });

  /**
   * What the running homeserver has: a role with a password, a UTF8/C database it owns, and the
   * tables Synapse made as that role (the parts of Synapse's schema these checks read), with rows.
   */
  async function existingHomeserver(options: { serverName?: string; tablesOwner?: string; schema?: boolean } = {}) {
    const role = { name: unique('old_synapse'), password: `pw-${randomBytes(8).toString('hex')}` };
    const databaseName = unique('synapse');
    cleanup.push(() => admin.query(`DROP ROLE IF EXISTS "${role.name}"`));
    cleanup.push(() => admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
    await admin.query(`CREATE ROLE "${role.name}" LOGIN PASSWORD '${role.password}'`);
    await admin.query(`CREATE DATABASE "${databaseName}" OWNER "${role.name}" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    if (options.schema !== false) {
      const creator = options.tablesOwner ? await connect(undefined, databaseName) : await connect({ name: role.name, password: role.password }, databaseName);
      try {
        await creator.query(`CREATE TABLE schema_version (lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE, version INTEGER NOT NULL, upgraded BOOL NOT NULL, CHECK (lock = 'X'))`);
        await creator.query('INSERT INTO schema_version (version, upgraded) VALUES (92, true)');
        await creator.query('CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT, creation_ts BIGINT, admin SMALLINT DEFAULT 0 NOT NULL)');
        await creator.query(`INSERT INTO users (name, creation_ts) VALUES ('@alice:${options.serverName ?? SERVER}', 1700000000), ('@bob:${options.serverName ?? SERVER}', 1700000001)`);
        await creator.query('CREATE TABLE events (event_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, content TEXT)');
        await creator.query(`INSERT INTO events VALUES ('$e1', '!internal:${SERVER}', '{"body":"hello"}')`);
        if (options.tablesOwner) {
          await admin.query(`CREATE ROLE "${options.tablesOwner}" NOLOGIN`);
          cleanup.push(() => admin.query(`DROP ROLE IF EXISTS "${options.tablesOwner}"`));
          cleanup.unshift(() => admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
          for (const t of ['schema_version', 'users', 'events']) {
            await creator.query(`ALTER TABLE ${t} OWNER TO "${options.tablesOwner}"`);
            await creator.query(`GRANT SELECT ON ${t} TO "${role.name}"`);
          }
        }
      } finally {
        await creator.end();
      }
    }
    return { role, databaseName };
  }

  /** Everything adoption must leave alone: the role's password hash, the owners, the rows. */
  async function state(role: string, databaseName: string) {
    const auth = await admin.query('SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1', [role]);
    const db = await admin.query('SELECT pg_get_userbyid(datdba) AS owner, datacl FROM pg_database WHERE datname = $1', [databaseName]);
    const inside = await connect(undefined, databaseName);
    try {
      const tables = await inside.query("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      const rows = tables.rows.length
        ? (await inside.query('SELECT (SELECT json_agg(u ORDER BY name) FROM users u) AS users, (SELECT json_agg(e) FROM events e) AS events, (SELECT json_agg(v) FROM schema_version v) AS version'))
            .rows[0]
        : null;
      return { auth: auth.rows, db: db.rows, tables: tables.rows, rows };
    } finally {
      await inside.end();
    }
  }

  const asRole = (role: { name: string; password: string }, databaseName: string) => () => connect(role, databaseName);

  it("accepts the old server's database and changes nothing: no role, password, owner or row", async () => {
    const { role, databaseName } = await existingHomeserver();
    const before = await state(role.name, databaseName);
    expect(await verifyAdoptedSynapseDatabase(asRole(role, databaseName), { roleName: role.name, databaseName, serverName: SERVER })).toEqual({ schemaVersion: 92, hasUsers: true });
    expect(await state(role.name, databaseName)).toEqual(before);
    // and the old server can still log in with its own password (a rollback needs nothing undone)
    await (await connect(role, databaseName)).end();
  });

  it('refuses a database that does not exist, and creates none', async () => {
    const { role } = await existingHomeserver({ schema: false });
    const missing = unique('synapse_missing');
    await expect(verifyAdoptedSynapseDatabase(asRole(role, missing), { roleName: role.name, databaseName: missing, serverName: SERVER })).rejects.toThrow(
      `database "${missing}" does not exist: synapse.database.mode "import" adopts an existing database and never creates one`,
    );
    expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [missing])).rowCount).toBe(0);
  });

  it('refuses an empty database (no Synapse schema), which would start a new server under the old name', async () => {
    const { role, databaseName } = await existingHomeserver({ schema: false });
    await expect(verifyAdoptedSynapseDatabase(asRole(role, databaseName), { roleName: role.name, databaseName, serverName: SERVER })).rejects.toThrow(
      /has no Synapse schema \(no public\.schema_version table\)/,
    );
  });

  it("refuses another server's database, as Synapse would", async () => {
    const { role, databaseName } = await existingHomeserver({ serverName: 'chat-testing.thephenom.app' });
    await expect(verifyAdoptedSynapseDatabase(asRole(role, databaseName), { roleName: role.name, databaseName, serverName: SERVER })).rejects.toThrow(
      'belongs to the homeserver "chat-testing.thephenom.app" (its users are @…:chat-testing.thephenom.app), but matrixServerName is "thephenom.app"',
    );
  });

  it('refuses a role that does not own the tables (Synapse could not upgrade them), naming the owner', async () => {
    const owner = unique('rds_master');
    const { role, databaseName } = await existingHomeserver({ tablesOwner: owner });
    const before = await state(role.name, databaseName);
    await expect(verifyAdoptedSynapseDatabase(asRole(role, databaseName), { roleName: role.name, databaseName, serverName: SERVER })).rejects.toThrow(
      `role "${role.name}" does not own the tables of database "${databaseName}" (3 owned by ${owner})`,
    );
    expect(await state(role.name, databaseName)).toEqual(before);
  });

  it('reports a wrong password in the secret without printing it', async () => {
    const { role, databaseName } = await existingHomeserver();
    const wrong = { name: role.name, password: 'not-the-password-123' };
    const error = await verifyAdoptedSynapseDatabase(asRole(wrong, databaseName), { roleName: role.name, databaseName, serverName: SERVER }).catch((e: Error) => e);
    expect(String(error)).toContain(`cannot log in to database "${databaseName}" as "${role.name}" with the password in the synapse.database.secretArn secret`);
    expect(String(error)).not.toContain('not-the-password-123');
  });

  it('rejects names that are not plain identifiers before connecting', async () => {
    const never = () => Promise.reject(new Error('must not connect'));
    await expect(verifyAdoptedSynapseDatabase(never, { roleName: 'synapse', databaseName: 'Synapse; drop', serverName: SERVER })).rejects.toThrow(/databaseName must be a lower-case SQL identifier/);
  });
});
