import { Pool } from 'pg';
import type { TestDatabase } from '../../../../../test/support/postgres';
import { createMigratedDatabase } from '../../../../../test/support/postgres/migrated';
import { PostgresBackend } from '../../../src/backend/postgres/backend';
import { AGENT, seedChat, type ChatFixture } from '../../support/chat-fixture';

/**
 * The hot postgres statements are prepared once per connection, and their generic plans (what
 * PostgreSQL switches to after five executions) keep every page one index range scan: a deep
 * page must not become a scan from the newest message with the cursor as a filter.
 */
let db: TestDatabase;
let fixture: ChatFixture;
let pool: Pool;
let backend: PostgresBackend;

beforeAll(async () => {
  db = await createMigratedDatabase('prepared');
  fixture = await seedChat(db.pool);
  await db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content, created_at) SELECT $1, $2, 'm' || g, now() - g * interval '1 second' FROM generate_series(1, 300) g`, [
    fixture.rooms.community,
    AGENT,
  ]);
  await db.pool.query('ANALYZE chat_messages');
  // One connection, forced to generic plans: EXPLAIN EXECUTE below sees the statements the backend prepared on it.
  pool = new Pool({ connectionString: db.url, max: 1, options: '-c plan_cache_mode=force_generic_plan' });
  backend = new PostgresBackend(pool, AGENT);
});
afterAll(async () => {
  await backend?.close();
  await db?.drop();
});

const plan = async (sql: string) => (await pool.query<{ 'QUERY PLAN': string }>(sql)).rows.map((r) => r['QUERY PLAN']).join('\n');

it('pages through a room with generic plans exactly as before, each page an index range', async () => {
  const room = fixture.rooms.community;
  const seen: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await backend.getMessages({ roomId: room, limit: 100, before, includeDeleted: false });
    seen.push(...page.messages.map((m) => m.id));
    if (!page.nextCursor) break;
    before = page.nextCursor;
  }
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM chat_messages WHERE room_id = $1 AND NOT is_deleted ORDER BY created_at DESC, id DESC', [room]);
  expect(seen).toEqual(rows.map((r) => r.id));
  expect(seen.length).toBe(300); // three pages: the cursor statement ran for the second and the third

  const first = await plan(`EXPLAIN EXECUTE chat_get_messages_first('${room}', false, 51)`);
  const deep = await plan(`EXPLAIN EXECUTE chat_get_messages_before('${room}', false, 51, (extract(epoch from now()) * 1000000)::bigint - 200000000, '00000000-0000-4000-8000-000000000000')`);
  for (const p of [first, deep]) expect(p).toMatch(/Index (Only )?Scan using idx_chat_messages_room_created/);
  // The cursor bounds the index range itself (an Index Cond on created_at), not a filter over it.
  expect(deep).toMatch(/Index Cond: .*created_at/);
});

it('prepares the send and still stores one row per call', async () => {
  for (let i = 0; i < 7; i++) await backend.sendMessage({ roomId: fixture.rooms.community, content: `prepared ${i}`, messageType: 'text' });
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_messages WHERE content LIKE 'prepared %'`);
  expect(rows[0].n).toBe(7);
  const prepared = await pool.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'chat_%' ORDER BY name`);
  expect(prepared.rows.map((r) => r.name)).toEqual(['chat_get_messages_before', 'chat_get_messages_first', 'chat_send_message']);
});
