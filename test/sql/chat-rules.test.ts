import { TestDatabase } from '../support/postgres';
import { createMigratedDatabase } from '../support/postgres/migrated';
import { addMember, createRoom, createUser, postMessage, rejection, tableRows } from './chat-fixtures';

/** The chat rules trigger (contract C1): each rule rejects with its own SQLSTATE and message token. */
let db: TestDatabase;
let room: string;

beforeAll(async () => {
  db = await createMigratedDatabase('rules');
  room = await createRoom(db.pool, 'Rules');
  for (const user of ['member', 'outsider', 'muted', 'muted_until', 'banned', 'banned_until', 'mod']) await createUser(db.pool, user);
  await addMember(db.pool, room, 'member');
  await addMember(db.pool, room, 'mod', { role: 'admin' });
});
afterAll(() => db.drop());

const INSERT = 'INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, $2, $3)';
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000);

/** Asserts the insert is refused by `code` with a message starting with `token`, and nothing was written. */
async function expectRefused(roomId: string, userId: string, code: string, token: string): Promise<string> {
  const before = await tableRows(db.pool, 'chat_messages');
  const err = await rejection(db.pool, INSERT, [roomId, userId, 'hi']);
  expect({ code: err.code, token: err.message.slice(0, token.length) }).toEqual({ code, token });
  expect(await tableRows(db.pool, 'chat_messages')).toEqual(before);
  return err.message;
}

async function ban(userId: string, expiresAt: Date | null, bannedAt = new Date()): Promise<void> {
  await db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by, reason, banned_at, expires_at) VALUES ($1, $2, 'mod', 'test', $3, $4)`, [room, userId, bannedAt, expiresAt]);
}

it('lets an ordinary member post', async () => {
  const id = await postMessage(db.pool, room, 'member', 'hello');
  const { rows } = await db.pool.query('SELECT user_id, content, message_type, is_deleted FROM chat_messages WHERE id = $1', [id]);
  expect(rows).toEqual([{ user_id: 'member', content: 'hello', message_type: 'text', is_deleted: false }]);
});

it('rejects a message from a non-member with 23C01 not_member', async () => {
  const message = await expectRefused(room, 'outsider', '23C01', 'not_member: ');
  expect(message).toBe('not_member: user outsider is not a member of room "Rules"');
});

it('rejects a message from a member muted with no end with 23C02 muted', async () => {
  await addMember(db.pool, room, 'muted', { isMuted: true });
  expect(await expectRefused(room, 'muted', '23C02', 'muted: ')).toBe('muted: user muted is muted in room "Rules" indefinitely');
});

it('rejects a member muted until a time with 23C02, and lets them post once that time has passed', async () => {
  await addMember(db.pool, room, 'muted_until', { isMuted: true, mutedUntil: inMinutes(30).toISOString() });
  expect(await expectRefused(room, 'muted_until', '23C02', 'muted: ')).toMatch(/^muted: user muted_until is muted in room "Rules" until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // The mute ran out: nobody resets is_muted, time alone lifts it.
  await db.pool.query(`UPDATE chat_members SET muted_until = now() - interval '1 second' WHERE user_id = 'muted_until'`);
  await postMessage(db.pool, room, 'muted_until', 'back again');
  const member = await db.pool.query(`SELECT is_muted FROM chat_members WHERE user_id = 'muted_until'`);
  expect(member.rows[0].is_muted).toBe(true);
});

it('rejects a member banned permanently with 23C03 banned, and keeps their membership', async () => {
  await addMember(db.pool, room, 'banned', { role: 'support' });
  await ban('banned', null);
  expect(await expectRefused(room, 'banned', '23C03', 'banned: ')).toBe('banned: user banned is banned from room "Rules" permanently');
  const member = await db.pool.query(`SELECT role FROM chat_members WHERE room_id = $1 AND user_id = 'banned'`, [room]);
  expect(member.rows).toEqual([{ role: 'support' }]);
  // Unban = delete the ban in force; the member posts again with their role intact.
  await db.pool.query(`DELETE FROM chat_bans WHERE room_id = $1 AND user_id = 'banned'`, [room]);
  await postMessage(db.pool, room, 'banned', 'thanks');
});

it('rejects a member banned until a time with 23C03, and lets them post once the ban has expired', async () => {
  await addMember(db.pool, room, 'banned_until');
  await ban('banned_until', inMinutes(60));
  expect(await expectRefused(room, 'banned_until', '23C03', 'banned: ')).toMatch(/^banned: user banned_until is banned from room "Rules" until \d{4}-/);
  await db.pool.query(`UPDATE chat_bans SET banned_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE user_id = 'banned_until'`);
  await postMessage(db.pool, room, 'banned_until', 'served my time');
});

it('reports a ban before a mute when both apply', async () => {
  await createUser(db.pool, 'both');
  await addMember(db.pool, room, 'both', { isMuted: true });
  await ban('both', null);
  await expectRefused(room, 'both', '23C03', 'banned: ');
});

it('rejects a message to an inactive room with 23C04 room_inactive, even from its admin', async () => {
  const closed = await createRoom(db.pool, 'Closed', false);
  await addMember(db.pool, closed, 'mod', { role: 'admin' });
  expect(await expectRefused(closed, 'mod', '23C04', 'room_inactive: ')).toBe('room_inactive: room "Closed" does not accept new messages');
  await db.pool.query('UPDATE chat_rooms SET is_active = true WHERE id = $1', [closed]);
  await postMessage(db.pool, closed, 'mod', 'reopened');
});

it('leaves an unknown room to the foreign key (23503)', async () => {
  const err = await rejection(db.pool, INSERT, ['00000000-0000-4000-8000-000000000001', 'member', 'hi']);
  expect(err).toMatchObject({ code: '23503', constraint: 'chat_messages_room_id_fkey' });
});

it('applies to every row of a multi-row insert, writing none of them when one breaks a rule', async () => {
  const before = await tableRows(db.pool, 'chat_messages');
  const err = await rejection(db.pool, `INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, 'member', 'a'), ($1, 'outsider', 'b')`, [room]);
  expect(err.code).toBe('23C01');
  expect(await tableRows(db.pool, 'chat_messages')).toEqual(before);
});
