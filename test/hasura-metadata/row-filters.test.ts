import { TestDatabase } from '../support/postgres';
import { createMigratedDatabase } from '../support/postgres/migrated';
import { BoolExpContext, boolExpToSql } from './bool-exp-sql';
import { BoolExp, metadataTables, permission, Table } from './metadata-model';

/**
 * The row filters of hasura-metadata/, evaluated on real rows of the migrated schema
 * (PostgreSQL 17): what each role would get, not just what the YAML says.
 */
let db: TestDatabase;
let tables: Map<string, Table>;
let foreignKeys: Map<string, { table: string; column: string }>;
const rooms: Record<string, string> = {};
const messages: Record<string, string> = {};

beforeAll(async () => {
  db = await createMigratedDatabase('hasura_rows');
  tables = metadataTables();
  const fks = await db.pool.query<{ t: string; c: string; rt: string; rc: string }>(
    `SELECT cl.relname AS t, a.attname AS c, rcl.relname AS rt, ra.attname AS rc
       FROM pg_constraint con
       JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class rcl ON rcl.oid = con.confrelid
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
       JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
      WHERE con.contype = 'f' AND array_length(con.conkey, 1) = 1`,
  );
  foreignKeys = new Map(fks.rows.map((r) => [`${r.t}.${r.c}`, { table: r.rt, column: r.rc }]));

  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  for (const r of (await q('SELECT id, name FROM chat_rooms')).rows) rooms[r.name] = r.id;
  await q(`INSERT INTO users (id, username) VALUES ('alice', 'alice'), ('bob', 'bob'), ('sam', 'sam-support')`);
  await q(`INSERT INTO chat_members (room_id, user_id, role) VALUES ($1, 'alice', 'user'), ($2, 'alice', 'user'), ($2, 'bob', 'user'), ($3, 'bob', 'user'), ($1, 'sam', 'support')`, [
    rooms['Phenom Internal'],
    rooms['Phenom Community'],
    rooms['Phenom Partners'],
  ]);
  const insert = async (key: string, room: string, user: string, deleted = false) => {
    const { rows } = await q(`INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, $2, $3) RETURNING id`, [rooms[room], user, key]);
    if (deleted) await q(`UPDATE chat_messages SET is_deleted = true, deleted_by = 'sam' WHERE id = $1`, [rows[0].id]);
    messages[key] = rows[0].id;
  };
  await insert('alice-internal', 'Phenom Internal', 'alice');
  await insert('alice-internal-deleted', 'Phenom Internal', 'alice', true);
  await insert('bob-community', 'Phenom Community', 'bob');
  await insert('bob-partners', 'Phenom Partners', 'bob');
});

afterAll(() => db?.drop());

const ctx = (userId: string): BoolExpContext => ({ tables, session: { 'X-Hasura-User-Id': userId }, foreignKey: (t, c) => foreignKeys.get(`${t}.${c}`) });

/** The rows of `table` a role's select filter lets `userId` see, as the values of `column`. */
async function visible(table: string, role: string, userId: string, column: string): Promise<string[]> {
  const p = permission(tables.get(table)!, 'select', role);
  if (!p) throw new Error(`${role} has no select on ${table}`);
  const cond = boolExpToSql(p.filter, table, 'r0', ctx(userId));
  const { rows } = await db.pool.query(`SELECT r0."${column}" AS v FROM "${table}" r0 WHERE ${cond.sql} ORDER BY 1`, cond.params);
  return rows.map((r) => String(r.v));
}

/** Whether a candidate chat_messages row passes `exp` for `userId` (Hasura checks inserts this way). */
async function messagePasses(exp: BoolExp | undefined, userId: string, row: { room_id: string; user_id: string; is_deleted?: boolean }): Promise<boolean> {
  const cond = boolExpToSql(exp, 'chat_messages', 'r0', ctx(userId));
  const n = cond.params.length;
  const { rows } = await db.pool.query(`SELECT ${cond.sql} AS ok FROM (SELECT $${n + 1}::uuid AS room_id, $${n + 2}::text AS user_id, $${n + 3}::boolean AS is_deleted) r0`, [
    ...cond.params,
    row.room_id,
    row.user_id,
    row.is_deleted ?? false,
  ]);
  return rows[0].ok === true;
}

describe('row filters on real rows', () => {
  it('a user sees exactly the rooms they are a member of', async () => {
    const names = async (user: string) => (await visible('chat_rooms', 'user', user, 'name')).sort();
    expect(await names('alice')).toEqual(['Phenom Community', 'Phenom Internal']);
    expect(await names('bob')).toEqual(['Phenom Community', 'Phenom Partners']);
    expect(await names('nobody')).toEqual([]);
  });

  it('a user sees only non-deleted messages of their rooms; support and chat_admin see all, deleted ones included', async () => {
    expect(await visible('chat_messages', 'user', 'alice', 'content')).toEqual(['alice-internal', 'bob-community']);
    expect(await visible('chat_messages', 'user', 'bob', 'content')).toEqual(['bob-community', 'bob-partners']);
    const all = ['alice-internal', 'alice-internal-deleted', 'bob-community', 'bob-partners'];
    expect(await visible('chat_messages', 'support', 'sam', 'content')).toEqual(all);
    expect(await visible('chat_messages', 'chat_admin', 'sam', 'content')).toEqual(all);
  });

  it('a user sees only their own membership rows', async () => {
    expect(new Set(await visible('chat_members', 'user', 'alice', 'user_id'))).toEqual(new Set(['alice']));
    expect(await visible('chat_members', 'user', 'alice', 'user_id')).toHaveLength(2);
  });

  it('a user may insert a message only into a room they are a member of (user_id preset to themselves)', async () => {
    const insert = permission(tables.get('chat_messages')!, 'insert', 'user')!;
    const presetUser = (user: string) => insert.set!.user_id.replace(/^X-Hasura-User-Id$/i, user);
    expect(await messagePasses(insert.check, 'alice', { room_id: rooms['Phenom Internal'], user_id: presetUser('alice') })).toBe(true);
    expect(await messagePasses(insert.check, 'alice', { room_id: rooms['Phenom Partners'], user_id: presetUser('alice') })).toBe(false);
    expect(await messagePasses(insert.check, 'nobody', { room_id: rooms['Phenom Community'], user_id: presetUser('nobody') })).toBe(false);
  });

  it('support can soft-delete a live message but not touch a deleted one, and the result must be deleted', async () => {
    const update = permission(tables.get('chat_messages')!, 'update', 'support')!;
    const live = { room_id: rooms['Phenom Internal'], user_id: 'alice', is_deleted: false };
    const deleted = { ...live, is_deleted: true };
    expect(await messagePasses(update.filter, 'sam', live)).toBe(true);
    expect(await messagePasses(update.filter, 'sam', deleted)).toBe(false);
    expect(await messagePasses(update.check, 'sam', deleted)).toBe(true);
    expect(await messagePasses(update.check, 'sam', live)).toBe(false);
  });
});
