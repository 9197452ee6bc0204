import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { ensureRotationClone } from '../../../lambda/shared/login-role';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { connectAs, sqlState } from '../../support/postgres/connect';
import { rotateAlternatingUsers, type RoleSecret } from '../../support/postgres/rotation';

/** The alternating-users rotation, on a role that owns tables, with its clone prepared beforehand (real PostgreSQL 17). */
let db: TestDatabase;
let master: Client;
const owner = `owner_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase('clone');
  master = await connectAs(undefined, db.name);
  await master.query(`CREATE ROLE ${owner} LOGIN PASSWORD 'first'`);
  await master.query(`GRANT CREATE ON SCHEMA public TO ${owner}`);
});
afterAll(async () => {
  await master.end();
  await db.drop();
  const admin = await connectAs();
  for (const name of [`${owner}_clone`, owner]) await admin.query(`DROP ROLE IF EXISTS ${name}`);
  await admin.end();
});

it('lets the clone log in once rotated, creating objects the role owns and can alter after the rotation moves back', async () => {
  await expect(ensureRotationClone(master, owner)).resolves.toBe(`${owner}_clone`);
  await ensureRotationClone(master, owner); // again: nothing changes
  // Before any rotation the clone has no password, so nobody can log in as it.
  expect(await sqlState(() => connectAs({ name: `${owner}_clone`, password: '' }, db.name))).toBeDefined();

  let secret: RoleSecret = { username: owner, password: 'first' };
  secret = await rotateAlternatingUsers(master, secret, () => undefined);
  const asClone = await connectAs({ name: secret.username, password: secret.password }, db.name);
  try {
    await asClone.query('CREATE TABLE made_by_clone (id int)');
  } finally {
    await asClone.end();
  }
  const { rows } = await master.query<{ owner: string }>(`SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'made_by_clone'`);
  expect(rows).toEqual([{ owner }]);

  secret = await rotateAlternatingUsers(master, secret, () => undefined);
  expect(secret.username).toBe(owner);
  const asOwner = await connectAs({ name: owner, password: secret.password }, db.name);
  try {
    await asOwner.query('ALTER TABLE made_by_clone ADD COLUMN note text');
  } finally {
    await asOwner.end();
  }
});

it('refuses a role that does not exist, and a name the clone suffix would push past 63 characters', async () => {
  await expect(ensureRotationClone(master, 'no_such_role_here')).rejects.toThrow(/does not exist/);
  await expect(ensureRotationClone(master, 'a'.repeat(58))).rejects.toThrow(/at most 57 characters/);
});
