import { TestDatabase } from '../support/postgres';
import { createMigratedDatabase } from '../support/postgres/migrated';
import { addMember, createRoom, createUser, postMessage, rejection, seededRooms, tableRows } from './chat-fixtures';

/** Each constraint rejects its bad data with its SQLSTATE and name, and the table is unchanged afterwards. */
let db: TestDatabase;
let community: string;

beforeAll(async () => {
  db = await createMigratedDatabase('constraints');
  community = (await seededRooms(db.pool))['Phenom Community'];
  for (const user of ['ana', 'ben', 'mod']) await createUser(db.pool, user);
  await addMember(db.pool, community, 'ana');
  await postMessage(db.pool, community, 'ana', 'already here');
});
afterAll(() => db.drop());

async function expectRejectedAndUnchanged(table: string, sql: string, params: unknown[], expected: { code: string; constraint?: string }): Promise<void> {
  const before = await tableRows(db.pool, table);
  const err = await rejection(db.pool, sql, params);
  expect({ code: err.code, constraint: err.constraint }).toEqual({ code: expected.code, constraint: expected.constraint });
  expect(await tableRows(db.pool, table)).toEqual(before);
}

const INSERT_MESSAGE = 'INSERT INTO chat_messages (room_id, user_id, content, message_type, phenom_id) VALUES ($1, $2, $3, $4, $5)';

describe('chat_messages constraints', () => {
  it('rejects content of 4001 characters (chat_messages_content_check) and accepts 4000', async () => {
    await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, [community, 'ana', 'x'.repeat(4001), 'text', null], {
      code: '23514',
      constraint: 'chat_messages_content_check',
    });
    await db.pool.query(INSERT_MESSAGE, [community, 'ana', 'x'.repeat(4000), 'text', null]);
  });

  it('counts characters, not bytes: 4000 multi-byte characters fit', async () => {
    await db.pool.query(INSERT_MESSAGE, [community, 'ana', 'é'.repeat(4000), 'text', null]);
  });

  it('rejects an unknown message_type (chat_messages_message_type_check)', async () => {
    await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, [community, 'ana', 'hi', 'video', null], {
      code: '23514',
      constraint: 'chat_messages_message_type_check',
    });
  });

  it('rejects a NULL message_type (NOT NULL, 23502)', async () => {
    await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, [community, 'ana', 'hi', null, null], { code: '23502' });
  });

  it('rejects a phenom_link without phenom_id (chat_messages_phenom_link_requires_phenom_id) and accepts one with it', async () => {
    for (const phenomId of [null, '']) {
      await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, [community, 'ana', 'look', 'phenom_link', phenomId], {
        code: '23514',
        constraint: 'chat_messages_phenom_link_requires_phenom_id',
      });
    }
    await db.pool.query(INSERT_MESSAGE, [community, 'ana', 'look', 'phenom_link', 'abc123']);
  });

  it('rejects a second message with the same client_message_id from one sender in one room (chat_messages_room_id_user_id_client_message_id_key), and only then', async () => {
    const WITH_KEY = 'INSERT INTO chat_messages (room_id, user_id, content, client_message_id) VALUES ($1, $2, $3, $4)';
    await addMember(db.pool, community, 'mod');
    const other = await createRoom(db.pool, 'Keys');
    await addMember(db.pool, other, 'ana');
    await db.pool.query(WITH_KEY, [community, 'ana', 'first', 'k-1']);
    await expectRejectedAndUnchanged('chat_messages', WITH_KEY, [community, 'ana', 'retry', 'k-1'], { code: '23505', constraint: 'chat_messages_room_id_user_id_client_message_id_key' });
    // Another sender, another room, or no key at all: no conflict.
    await db.pool.query(WITH_KEY, [community, 'mod', 'same key, other sender', 'k-1']);
    await db.pool.query(WITH_KEY, [other, 'ana', 'same key, other room', 'k-1']);
    await db.pool.query(WITH_KEY, [community, 'ana', 'no key', null]);
    await db.pool.query(WITH_KEY, [community, 'ana', 'no key', null]);
    await expectRejectedAndUnchanged('chat_messages', WITH_KEY, [community, 'ana', 'long key', 'k'.repeat(129)], { code: '23514', constraint: 'chat_messages_client_message_id_check' });
    await expectRejectedAndUnchanged('chat_messages', WITH_KEY, [community, 'ana', 'empty key', ''], { code: '23514', constraint: 'chat_messages_client_message_id_check' });
  });

  it('rejects an unknown room or sender with the foreign key error (23503)', async () => {
    await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, ['00000000-0000-4000-8000-000000000000', 'ana', 'hi', 'text', null], {
      code: '23503',
      constraint: 'chat_messages_room_id_fkey',
    });
    await expectRejectedAndUnchanged('chat_messages', INSERT_MESSAGE, [community, 'ghost', 'hi', 'text', null], {
      code: '23503',
      constraint: 'chat_messages_user_id_fkey',
    });
  });

  it('sets updated_at on every update, and leaves created_at alone', async () => {
    const { rows } = await db.pool.query<{ id: string; created_at: Date }>(
      `INSERT INTO chat_messages (room_id, user_id, content, created_at, updated_at)
       VALUES ($1, 'ana', 'to edit', now() - interval '1 hour', now() - interval '1 hour') RETURNING id, created_at`,
      [community],
    );
    const after = await db.pool.query<{ created_at: Date; updated_at: Date; fresh: boolean }>(
      `UPDATE chat_messages SET is_deleted = true, deleted_by = 'mod' WHERE id = $1
       RETURNING created_at, updated_at, updated_at > now() - interval '1 minute' AS fresh`,
      [rows[0].id],
    );
    expect(after.rows[0].created_at).toEqual(rows[0].created_at);
    expect(after.rows[0].updated_at.getTime()).toBeGreaterThan(rows[0].created_at.getTime() + 59 * 60_000);
    expect(after.rows[0].fresh).toBe(true);
  });
});

describe('chat_members constraints', () => {
  const INSERT_MEMBER = 'INSERT INTO chat_members (room_id, user_id, role) VALUES ($1, $2, $3)';

  it('rejects an unknown role (chat_members_role_check)', async () => {
    await expectRejectedAndUnchanged('chat_members', INSERT_MEMBER, [community, 'ben', 'owner'], { code: '23514', constraint: 'chat_members_role_check' });
  });

  it('rejects a duplicate member (chat_members_room_id_user_id_key)', async () => {
    await expectRejectedAndUnchanged('chat_members', INSERT_MEMBER, [community, 'ana', 'admin'], { code: '23505', constraint: 'chat_members_room_id_user_id_key' });
  });

  it('accepts each of the three roles', async () => {
    const room = await createRoom(db.pool, 'Roles');
    for (const [user, role] of [
      ['ana', 'user'],
      ['ben', 'support'],
      ['mod', 'admin'],
    ])
      await db.pool.query(INSERT_MEMBER, [room, user, role]);
  });
});

describe('chat_rooms and link_previews constraints', () => {
  it('rejects a second room with a seeded name (chat_rooms_name_key)', async () => {
    await expectRejectedAndUnchanged('chat_rooms', 'INSERT INTO chat_rooms (name) VALUES ($1)', ['Phenom Community'], { code: '23505', constraint: 'chat_rooms_name_key' });
  });

  it('rejects a second preview for one phenom_id (link_previews_phenom_id_key)', async () => {
    await db.pool.query(`INSERT INTO link_previews (url, phenom_id) VALUES ('https://thephenom.app/p/abc', 'abc')`);
    await expectRejectedAndUnchanged('link_previews', 'INSERT INTO link_previews (url, phenom_id) VALUES ($1, $2)', ['https://thephenom.app/p/abc?x', 'abc'], {
      code: '23505',
      constraint: 'link_previews_phenom_id_key',
    });
  });

  it('rejects a preview without url (23502)', async () => {
    await expectRejectedAndUnchanged('link_previews', 'INSERT INTO link_previews (url, phenom_id) VALUES ($1, $2)', [null, 'def'], { code: '23502' });
  });
});

describe('chat_bans: at most one ban in force per member', () => {
  const BAN = `INSERT INTO chat_bans (room_id, user_id, banned_by, reason, banned_at, expires_at) VALUES ($1, $2, 'mod', 'spam', COALESCE($3::timestamptz, now()), $4)`;
  let room: string;
  beforeAll(async () => {
    room = await createRoom(db.pool, 'Bans');
  });

  it('rejects a second ban while one is in force (chat_bans_one_active_per_member, 23P01)', async () => {
    await db.pool.query(BAN, [room, 'ben', null, null]);
    await expectRejectedAndUnchanged('chat_bans', BAN, [room, 'ben', null, new Date(Date.now() + 3_600_000)], { code: '23P01', constraint: 'chat_bans_one_active_per_member' });
    // Unban (contract C1) is a DELETE of the ban in force; then a new ban is accepted.
    await db.pool.query(`DELETE FROM chat_bans WHERE room_id = $1 AND user_id = 'ben'`, [room]);
    await db.pool.query(BAN, [room, 'ben', null, new Date(Date.now() + 3_600_000)]);
  });

  it('accepts a new ban once the previous one has expired, and keeps the old one as history', async () => {
    const past = (h: number) => new Date(Date.now() - h * 3_600_000);
    await db.pool.query(BAN, [room, 'ana', past(3), past(2)]);
    await db.pool.query(BAN, [room, 'ana', null, null]);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM chat_bans WHERE room_id = $1 AND user_id = 'ana'`, [room]);
    expect(rows[0].n).toBe(2);
  });

  it('rejects a ban that ends before it starts (chat_bans_expires_after_banned_at)', async () => {
    await expectRejectedAndUnchanged('chat_bans', BAN, [room, 'mod', null, new Date(Date.now() - 60_000)], { code: '23514', constraint: 'chat_bans_expires_after_banned_at' });
  });
});

describe('ON DELETE rules', () => {
  it('refuses to delete a room that has messages, keeping them', async () => {
    await expectRejectedAndUnchanged('chat_messages', 'DELETE FROM chat_rooms WHERE id = $1', [community], { code: '23503', constraint: 'chat_messages_room_id_fkey' });
  });

  it('refuses to delete a user who has messages, keeping them', async () => {
    await expectRejectedAndUnchanged('chat_messages', 'DELETE FROM users WHERE id = $1', ['ana'], { code: '23503', constraint: 'chat_messages_user_id_fkey' });
  });

  it('refuses to delete a moderator who issued a ban, keeping the audit trail', async () => {
    const room = await createRoom(db.pool, 'Audit');
    await createUser(db.pool, 'judge');
    await db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by) VALUES ($1, 'ben', 'judge')`, [room]);
    await expectRejectedAndUnchanged('chat_bans', 'DELETE FROM users WHERE id = $1', ['judge'], { code: '23503', constraint: 'chat_bans_banned_by_fkey' });
  });

  it('forgets only who deleted a message when that user is deleted: the message stays, soft-deleted', async () => {
    await createUser(db.pool, 'janitor');
    const id = await postMessage(db.pool, community, 'ana', 'to be moderated');
    await db.pool.query(`UPDATE chat_messages SET is_deleted = true, deleted_by = 'janitor' WHERE id = $1`, [id]);
    await db.pool.query(`DELETE FROM users WHERE id = 'janitor'`);
    const { rows } = await db.pool.query('SELECT is_deleted, deleted_by, content FROM chat_messages WHERE id = $1', [id]);
    expect(rows).toEqual([{ is_deleted: true, deleted_by: null, content: 'to be moderated' }]);
  });

  it('removes the memberships and bans of a room without messages along with it', async () => {
    const room = await createRoom(db.pool, 'Empty');
    await addMember(db.pool, room, 'ben');
    await db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by) VALUES ($1, 'ana', 'mod')`, [room]);
    await db.pool.query('DELETE FROM chat_rooms WHERE id = $1', [room]);
    const left = await db.pool.query('SELECT (SELECT count(*) FROM chat_members WHERE room_id = $1)::int AS members, (SELECT count(*) FROM chat_bans WHERE room_id = $1)::int AS bans', [room]);
    expect(left.rows[0]).toEqual({ members: 0, bans: 0 });
  });

  it('removes the memberships and bans of a user without messages along with them', async () => {
    await createUser(db.pool, 'lurker');
    await addMember(db.pool, community, 'lurker');
    await db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by) VALUES ($1, 'lurker', 'mod')`, [community]);
    await db.pool.query(`DELETE FROM users WHERE id = 'lurker'`);
    const left = await db.pool.query(`SELECT (SELECT count(*) FROM chat_members WHERE user_id = 'lurker')::int AS members, (SELECT count(*) FROM chat_bans WHERE user_id = 'lurker')::int AS bans`);
    expect(left.rows[0]).toEqual({ members: 0, bans: 0 });
  });
});
