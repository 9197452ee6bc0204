import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { ensureFutureTablesReader } from '../../../lambda/ab-reader-roles/setup';
import { SYNAPSE_USAGE_TABLES, synapseUsage, windowBefore } from '../../../lambda/ab-collector/usage';
import { ensureSynapseDatabase } from '../../../lambda/synapse-database-setup/setup';
import { connectAs as connect, sqlState } from '../../support/postgres/connect';
import { SYNAPSE_EVENTS_SCHEMA } from '../../support/synapse-events-schema';

const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

describe("the collector's reader on Synapse's database, made before Synapse creates its tables (real PostgreSQL 17)", () => {
  const master = { name: unique('rds_master'), password: 'master-password' };
  const synapse = { name: unique('synapse'), password: 'synapse-password' };
  const reader = { name: unique('ab_reader_synapse'), password: 'reader-password' };
  const databaseName = unique('synapse');
  let superuser: Client;
  let asMaster: Client;
  const spec = () => ({ roleName: reader.name, password: reader.password, tableOwner: synapse.name, tables: SYNAPSE_USAGE_TABLES });

  beforeAll(async () => {
    superuser = await connect(undefined);
    // RDS's master user: CREATEROLE and CREATEDB, not a superuser.
    await superuser.query(`CREATE ROLE "${master.name}" LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
    const masterOnPostgres = await connect(master);
    try {
      await ensureSynapseDatabase(masterOnPostgres, { roleName: synapse.name, databaseName, password: synapse.password });
    } finally {
      await masterOnPostgres.end();
    }
    asMaster = await connect(master, databaseName);
  });
  afterAll(async () => {
    await asMaster.end();
    await superuser.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    for (const role of [reader.name, synapse.name, master.name]) await superuser.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    await superuser.end();
  });

  it('reads the usage tables Synapse creates later, and after the next run nothing else', async () => {
    expect(await ensureFutureTablesReader(asMaster, spec())).toEqual({ granted: [], pending: ['events', 'room_aliases'], revoked: [] });

    // Synapse's first start: its own role creates its schema, including tables the collector must not read.
    const asSynapse = await connect(synapse, databaseName);
    try {
      await asSynapse.query(SYNAPSE_EVENTS_SCHEMA);
      await asSynapse.query('CREATE TABLE access_tokens (id bigint PRIMARY KEY, user_id text NOT NULL, token text NOT NULL)');
      await asSynapse.query(
        `INSERT INTO events (stream_ordering, topological_ordering, event_id, type, room_id, origin_server_ts, sender)
                             VALUES (1, 1, '$e1', 'm.room.message', '!r:chat.test', $1, '@alice:chat.test')`,
        [Date.parse('2026-11-14T12:01:00Z')],
      );
      await asSynapse.query(`INSERT INTO room_aliases (room_alias, room_id) VALUES ('#phenom-community:chat.test', '!r:chat.test')`);
    } finally {
      await asSynapse.end();
    }

    const asReader = await connect(reader, databaseName);
    try {
      // Without another run of the step, the collector's query works.
      const usage = await synapseUsage(asReader, windowBefore(new Date('2026-11-14T12:07:00Z')), 'chat.test');
      expect(usage).toMatchObject({ messages: 1, sendersToday: 1, activeRoomsToday: 1 });
      expect(await sqlState(() => asReader.query(`INSERT INTO room_aliases (room_alias, room_id) VALUES ('#x:chat.test', '!x')`))).toBe('42501');

      // The next run narrows the reader to the usage tables.
      expect(await ensureFutureTablesReader(asMaster, spec())).toEqual({ granted: ['events', 'room_aliases'], pending: [], revoked: ['access_tokens'] });
      expect(await sqlState(() => asReader.query('SELECT token FROM access_tokens'))).toBe('42501');
      expect((await asReader.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(1);
      expect(await sqlState(() => asReader.query('DELETE FROM events'))).toBe('42501');
    } finally {
      await asReader.end();
    }
    // Idempotent: a third run changes nothing.
    expect(await ensureFutureTablesReader(asMaster, spec())).toEqual({ granted: ['events', 'room_aliases'], pending: [], revoked: [] });
  });

  it('refuses bad names before touching the server, and a reader that would be the owner', async () => {
    await expect(ensureFutureTablesReader(asMaster, { ...spec(), tables: ['events; DROP TABLE users'] })).rejects.toThrow(/expected lower-case SQL identifiers/);
    await expect(ensureFutureTablesReader(asMaster, { ...spec(), tableOwner: 'Synapse' })).rejects.toThrow(/expected lower-case SQL identifiers/);
    await expect(ensureFutureTablesReader(asMaster, { ...spec(), tables: [] })).rejects.toThrow(/no tables to grant/);
    await expect(ensureFutureTablesReader(asMaster, { ...spec(), roleName: synapse.name })).rejects.toThrow(/cannot be the table owner/);
    expect((await superuser.query('SELECT 1 FROM pg_roles WHERE rolname = $1', ['Synapse'])).rowCount).toBe(0);
  });
});
