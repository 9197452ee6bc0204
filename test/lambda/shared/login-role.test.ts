import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureLoginRole, ensureReadOnlyRole } from '../../../lambda/shared/login-role';
import { TestDatabase } from '../../support/postgres';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { sqlState } from '../../support/postgres/sql-state';

/** A role's own connection to the test database. */
async function as(db: TestDatabase, role: string, password: string): Promise<Client> {
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

describe('read-only database roles (real PostgreSQL 17)', () => {
  let db: TestDatabase;
  const role = `ab_reader_${randomBytes(4).toString('hex')}`;
  let admin: Client;

  beforeAll(async () => {
    db = await createMigratedDatabase('roles');
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
    await db.drop();
  });

  it('reads exactly the listed tables and is refused everything else', async () => {
    await ensureReadOnlyRole(admin, { roleName: role, password: 'first-password', tables: ['chat_messages', 'chat_rooms'] });
    const reader = await as(db, role, 'first-password');
    try {
      await expect(reader.query('SELECT count(*) FROM chat_messages')).resolves.toBeDefined();
      await expect(reader.query('SELECT name FROM chat_rooms')).resolves.toBeDefined();
      // 42501 insufficient_privilege for anything beyond SELECT on those two.
      expect(await sqlState(() => reader.query('SELECT * FROM chat_bans'))).toBe('42501');
      expect(await sqlState(() => reader.query('SELECT * FROM users'))).toBe('42501');
      expect(await sqlState(() => reader.query(`INSERT INTO chat_rooms (name) VALUES ('x')`))).toBe('42501');
      expect(await sqlState(() => reader.query('UPDATE chat_messages SET content = content'))).toBe('42501');
      expect(await sqlState(() => reader.query('DELETE FROM chat_messages'))).toBe('42501');
      expect(await sqlState(() => reader.query('CREATE TABLE mine (x int)'))).toBe('42501');
    } finally {
      await reader.end();
    }
  });

  it('follows its secret and its list on every run: a new password replaces the old, a dropped table is no longer readable', async () => {
    await ensureReadOnlyRole(admin, { roleName: role, password: 'second-password', tables: ['chat_rooms'] });
    expect(await sqlState(() => as(db, role, 'first-password'))).toBe('28P01'); // invalid_password
    const reader = await as(db, role, 'second-password');
    try {
      await expect(reader.query('SELECT name FROM chat_rooms')).resolves.toBeDefined();
      expect(await sqlState(() => reader.query('SELECT count(*) FROM chat_messages'))).toBe('42501');
    } finally {
      await reader.end();
    }
  });

  it('refuses a table that does not exist yet, changing no grant', async () => {
    await expect(ensureReadOnlyRole(admin, { roleName: role, password: 'second-password', tables: ['chat_rooms', 'events'] })).rejects.toThrow(
      `cannot grant ${role} SELECT: no table events in the public schema of this database yet`,
    );
    const reader = await as(db, role, 'second-password');
    try {
      await expect(reader.query('SELECT name FROM chat_rooms')).resolves.toBeDefined();
    } finally {
      await reader.end();
    }
  });

  it('refuses names that are not plain identifiers and empty passwords, before touching the database', async () => {
    await expect(ensureLoginRole(admin, 'Robert"; DROP TABLE users; --', 'x')).rejects.toThrow(/roleName must be a lower-case SQL identifier/);
    await expect(ensureLoginRole(admin, role, '')).rejects.toThrow(/password of role .* is empty/);
    await expect(ensureReadOnlyRole(admin, { roleName: role, password: 'p', tables: ['chat_rooms; DROP TABLE users'] })).rejects.toThrow(/tables: expected lower-case SQL identifiers/);
  });
});
