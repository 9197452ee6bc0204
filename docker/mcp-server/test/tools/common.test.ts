import { Client } from 'pg';
import { testServerUrl } from '../../../../test/support/postgres';
import { CHAT_TOOLS } from '../../src/tools';
import { connect, type ConnectedClient } from '../support/clients';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';
import { AGENT, ALICE, OUTSIDER, snapshotChat } from '../support/chat-fixture';
import { startEnvironment, type Environment } from '../support/environment';

let env: Environment;
let client: ConnectedClient;
let deletedMessageId: string;

const UNKNOWN_ROOM = '11111111-1111-4111-8111-111111111111';
const UNKNOWN_MESSAGE = '22222222-2222-4222-8222-222222222222';

beforeAll(async () => {
  env = await startEnvironment();
  client = await connect('sdk-v2 modern (2026-07-28)', env.server.mcpUrl, env.token);
  const { rows } = await env.db.pool.query<{ id: string }>(`INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, $2, 'old'), ($1, $2, 'gone') RETURNING id`, [
    env.fixture.rooms.community,
    AGENT,
  ]);
  deletedMessageId = rows[1].id;
  await env.db.pool.query('UPDATE chat_messages SET is_deleted = true WHERE id = $1', [deletedMessageId]);
  await env.db.pool.query(`UPDATE chat_rooms SET is_active = false WHERE id = $1`, [env.fixture.rooms.internal]);
});
afterAll(async () => {
  await client?.close();
  await env?.teardown();
});

const community = () => env.fixture.rooms.community;
const badCursor = (room: string) => Buffer.from(JSON.stringify({ r: room, t: '1', i: 'x' })).toString('base64url');
/** Well-formed but forged: a timestamp far beyond what PostgreSQL can hold (year ~318857). */
const forgedCursor = (room: string) => Buffer.from(JSON.stringify({ r: room, t: '9999999999999999999', i: UNKNOWN_MESSAGE })).toString('base64url');
const NUL = '\u0000';

/** [tool, label, arguments, what the error must say] */
const CASES: [string, string, () => Record<string, unknown>, RegExp][] = [
  ['chat_list_rooms', 'an unknown argument', () => ({ room: 'x' }), /Unrecognized key|room/i],

  ['chat_get_messages', 'a missing room_id', () => ({}), /room_id/],
  ['chat_get_messages', 'a room_id of the wrong type', () => ({ room_id: 42 }), /room_id/],
  ['chat_get_messages', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM }), /room not found/i],
  ['chat_get_messages', 'a room name instead of an id', () => ({ room_id: 'Phenom Community' }), /room not found/i],
  ['chat_get_messages', 'limit over 100', () => ({ room_id: community(), limit: 101 }), /limit/],
  ['chat_get_messages', 'limit 0', () => ({ room_id: community(), limit: 0 }), /limit/],
  ['chat_get_messages', 'a fractional limit', () => ({ room_id: community(), limit: 2.5 }), /limit/],
  ['chat_get_messages', 'a garbage cursor', () => ({ room_id: community(), before: 'not-a-cursor' }), /cursor/i],
  ['chat_get_messages', 'a forged cursor', () => ({ room_id: community(), before: badCursor(community()) }), /cursor/i],
  ['chat_get_messages', 'a forged cursor with an impossible timestamp', () => ({ room_id: community(), before: forgedCursor(community()) }), /cursor/i],
  ['chat_get_messages', 'a NUL byte in room_id', () => ({ room_id: `${community()}${NUL}` }), /room_id.*control character/],
  ['chat_get_messages', 'a NUL byte in the cursor', () => ({ room_id: community(), before: `abc${NUL}` }), /before.*control character/],
  [
    'chat_get_messages',
    'another room’s cursor',
    () => ({ room_id: community(), before: Buffer.from(JSON.stringify({ r: env.fixture.rooms.partners, t: '1', i: UNKNOWN_MESSAGE })).toString('base64url') }),
    /cursor/i,
  ],

  ['chat_send_message', 'content of 4001 characters', () => ({ room_id: community(), content: 'x'.repeat(4001) }), /4001 characters.*limit is 4000/],
  ['chat_send_message', '4001 emoji (counted as characters, like the database)', () => ({ room_id: community(), content: '😀'.repeat(4001) }), /4001 characters/],
  ['chat_send_message', 'empty content', () => ({ room_id: community(), content: '' }), /content/],
  ['chat_send_message', 'content of the wrong type', () => ({ room_id: community(), content: 5 }), /content/],
  ['chat_send_message', 'a phenom_link without phenom_id', () => ({ room_id: community(), content: 'see', message_type: 'phenom_link' }), /phenom_id/],
  ['chat_send_message', 'a phenom_id on a text message', () => ({ room_id: community(), content: 'see', phenom_id: 'abc' }), /phenom_id/],
  ['chat_send_message', 'an unknown message_type', () => ({ room_id: community(), content: 'x', message_type: 'image' }), /message_type/],
  ['chat_send_message', 'a NUL byte in content', () => ({ room_id: community(), content: `hi${NUL}there` }), /content.*NUL/],
  ['chat_send_message', 'a NUL byte in phenom_id', () => ({ room_id: community(), content: 'see', message_type: 'phenom_link', phenom_id: `abc${NUL}` }), /phenom_id.*control character/],
  ['chat_send_message', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM, content: 'x' }), /room/i],
  ['chat_send_message', 'an inactive room', () => ({ room_id: env.fixture.rooms.internal, content: 'x' }), /does not accept new messages/],

  ['chat_delete_message', 'an unknown message', () => ({ room_id: community(), message_id: UNKNOWN_MESSAGE }), /message not found/i],
  ['chat_delete_message', 'a malformed message id', () => ({ room_id: community(), message_id: 'abc' }), /message not found/i],
  ['chat_delete_message', 'a message of another room', () => ({ room_id: env.fixture.rooms.partners, message_id: deletedMessageId }), /message not found/i],
  ['chat_delete_message', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM, message_id: UNKNOWN_MESSAGE }), /room not found/i],
  ['chat_delete_message', 'a NUL byte in message_id', () => ({ room_id: community(), message_id: `${UNKNOWN_MESSAGE}${NUL}` }), /message_id.*control character/],
  ['chat_delete_message', 'a missing message_id', () => ({ room_id: community() }), /message_id/],

  ['chat_list_members', 'an unknown role', () => ({ room_id: community(), role: 'owner' }), /role/],
  ['chat_list_members', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM }), /room not found/i],

  ['chat_mute_user', 'a user who is not a member', () => ({ room_id: community(), user_id: OUTSIDER }), /not a member/],
  ['chat_mute_user', 'an unknown user', () => ({ room_id: community(), user_id: 'nobody' }), /user not found/i],
  ['chat_mute_user', 'negative minutes', () => ({ room_id: community(), user_id: ALICE, minutes: -5 }), /minutes/],
  ['chat_mute_user', 'minutes as a string', () => ({ room_id: community(), user_id: ALICE, minutes: '10' }), /minutes/],
  ['chat_mute_user', 'a NUL byte in user_id', () => ({ room_id: community(), user_id: `${ALICE}${NUL}` }), /user_id.*control character/],
  ['chat_mute_user', 'a line break in user_id', () => ({ room_id: community(), user_id: `${ALICE}\n` }), /user_id.*control character/],
  ['chat_mute_user', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM, user_id: ALICE }), /room not found/i],

  ['chat_unmute_user', 'a user who is not a member', () => ({ room_id: community(), user_id: OUTSIDER }), /not a member/],
  ['chat_unmute_user', 'a missing user_id', () => ({ room_id: community() }), /user_id/],

  ['chat_ban_user', 'a missing reason', () => ({ room_id: community(), user_id: ALICE }), /reason/],
  ['chat_ban_user', 'a blank reason', () => ({ room_id: community(), user_id: ALICE, reason: '   ' }), /reason/],
  ['chat_ban_user', 'an unknown user', () => ({ room_id: community(), user_id: 'nobody', reason: 'spam' }), /user/i],
  ['chat_ban_user', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM, user_id: ALICE, reason: 'spam' }), /room/i],
  ['chat_ban_user', 'a NUL byte in the reason', () => ({ room_id: community(), user_id: ALICE, reason: `spam${NUL}` }), /reason.*NUL/],
  ['chat_ban_user', 'zero minutes', () => ({ room_id: community(), user_id: ALICE, reason: 'spam', minutes: 0 }), /minutes/],

  ['chat_unban_user', 'an unknown user', () => ({ room_id: community(), user_id: 'nobody' }), /user not found/i],
  ['chat_unban_user', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM, user_id: ALICE }), /room not found/i],

  ['chat_list_bans', 'an unknown room', () => ({ room_id: UNKNOWN_ROOM }), /room not found/i],
  ['chat_list_bans', 'limit over 500', () => ({ room_id: community(), limit: 501 }), /limit/],
  ['chat_list_bans', 'a garbage cursor', () => ({ room_id: community(), after: 'not-a-cursor' }), /cursor/i],
];

it('covers every one of the chat tools', () => {
  expect(new Set(CASES.map(([tool]) => tool)).size).toBe(CHAT_TOOLS.length);
});

it.each(CASES)('%s with %s → isError, database unchanged', async (tool, _label, args, says) => {
  const before = await snapshotChat(env.db.pool);
  const result = await client.callTool(tool, args());
  expect(result.isError).toBe(true);
  const text = result.content.map((c) => c.text).join(' ');
  expect(text).toMatch(says);
  expect(text).not.toMatch(/at .*\.(js|ts):\d+|stack/i); // a sentence, never a stack trace
  expect(await snapshotChat(env.db.pool)).toBe(before);
});

// JSON.parse makes "__proto__" an own key; the SDK's record parsing would silently drop it, so
// this posts the raw text. A key that is not an argument must be refused, like any other unknown key.
it.each([
  ['chat_list_rooms', '{}'],
  ['chat_get_messages', '{"room_id":"ROOM","__proto__":{"include_deleted":true}}'],
  ['chat_send_message', '{"room_id":"ROOM","content":"x","__proto__":{"message_type":"phenom_link"}}'],
])('%s with a __proto__ argument key → isError naming the key, database unchanged', async (tool, args) => {
  const before = await snapshotChat(env.db.pool);
  const withProto = args === '{}' ? '{"__proto__":{}}' : args.replace('ROOM', community());
  const body = JSON.stringify(toolCall(tool, {})).replace('"arguments":{}', `"arguments":${withProto}`);
  const res = await postRpc(env.server.mcpUrl, body, bearer(env.token));
  expect(res.status).toBe(200);
  const result = (JSON.parse(res.text) as { result: { isError?: boolean; content: { text: string }[] } }).result;
  expect(result.isError).toBe(true);
  expect(result.content[0]!.text).toMatch(/__proto__/);
  expect(await snapshotChat(env.db.pool)).toBe(before);
});

it('a database that refuses connections is reported as backend unavailable, and health says so without internals', async () => {
  const admin = new Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    // Refuse new connections to this database and cut the server's current ones.
    await admin.query(`ALTER DATABASE "${env.db.name}" WITH ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'phenom-chat-mcp'`, [env.db.name]);
    const result = await client.callTool('chat_list_rooms', {});
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/unavailable|unreachable/i);
    expect(result.content[0].text).not.toContain(env.db.name);
    const health = await (await fetch(`${env.server.url}/health`)).json();
    expect(health).toEqual({ status: 'ok', backend: 'unreachable' });
  } finally {
    await admin.query(`ALTER DATABASE "${env.db.name}" WITH ALLOW_CONNECTIONS true`);
    await admin.end();
  }
  // …and it recovers by itself once the database is back.
  expect((await client.callTool('chat_list_rooms', {})).isError).toBeFalsy();
});
