import { Pool } from 'pg';
import { z } from 'zod';
import type { TestDatabase } from '../../../../test/support/postgres';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import { PostgresBackend } from '../../src/backend/postgres/backend';
import { createLogger } from '../../src/log';
import { callTool, MAX_RESULT_BYTES, runTool } from '../../src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../src/tools';
import { defineTool, type ChatTool } from '../../src/tools/common';
import { AGENT, seedChat, type ChatFixture } from '../support/chat-fixture';
import { call, ok } from '../support/backends';

/**
 * The byte budget on every tool result, on the real schema: pages that would be too large come back
 * shorter (with a cursor that continues exactly where they stop), and oversized strings that no
 * row limit bounds (display names, preview texts) are shortened.
 */
let db: TestDatabase;
let fixture: ChatFixture;
let backend: PostgresBackend;
/** A character JSON escapes as six bytes (\\u0001): the worst case for a result's size. */
const WORST = '\u0001';

beforeAll(async () => {
  db = await createMigratedDatabase('budget');
  fixture = await seedChat(db.pool);
  backend = new PostgresBackend(new Pool({ connectionString: db.url, max: 2 }), AGENT);
});
afterAll(async () => {
  await backend?.close();
  await db?.drop();
});

const bytesOf = async (tool: string, args: Record<string, unknown>) => {
  const result = await call(backend, tool, args);
  return { result, bytes: Buffer.byteLength(JSON.stringify({ content: [{ type: 'text', text: result.text }], structuredContent: result.structured })) };
};

it('shortens a page of 500 members with 10,000-character display names to fit, and the cursor walks on without a gap', async () => {
  const room = fixture.rooms.partners;
  await db.pool.query(`INSERT INTO users (id, display_name) SELECT 'wide-' || lpad(g::text, 4, '0'), repeat($1, 10000) FROM generate_series(1, 600) g`, [WORST]);
  await db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT $1, 'wide-' || lpad(g::text, 4, '0') FROM generate_series(1, 600) g`, [room]);
  const { result, bytes } = await bytesOf('chat_list_members', { room_id: room, limit: 500 });
  expect(result.isError).toBeUndefined();
  expect(bytes).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  const page = result.structured as { members: Array<{ user_id: string; display_name: string }>; next_cursor: string };
  expect(page.members.length).toBeGreaterThan(1);
  expect(page.members.length).toBeLessThan(500);
  // Display names are cut to 256 characters, the last one an ellipsis.
  expect([...page.members[1]!.display_name]).toHaveLength(256);
  expect(page.members[1]!.display_name.endsWith('…')).toBe(true);
  const seen = page.members.map((m) => m.user_id);
  let after: string | null = page.next_cursor;
  while (after) {
    const next: { members: Array<{ user_id: string }>; next_cursor: string | null } = await ok(backend, 'chat_list_members', { room_id: room, limit: 500, after });
    seen.push(...next.members.map((m) => m.user_id));
    after = next.next_cursor;
  }
  expect(seen).toHaveLength(601);
  expect(new Set(seen).size).toBe(601);
});

it('shortens a page of 100 messages of 4,000 worst-case characters to fit, and next_cursor continues right after it', async () => {
  const room = fixture.rooms.internal;
  await db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT $1, $2, repeat($3, 4000) FROM generate_series(1, 120)`, [room, AGENT, WORST]);
  const { result, bytes } = await bytesOf('chat_get_messages', { room_id: room, limit: 100 });
  expect(bytes).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  const page = result.structured as { messages: Array<{ id: string }>; next_cursor: string };
  expect(page.messages.length).toBeGreaterThanOrEqual(1);
  expect(page.messages.length).toBeLessThan(100);
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM chat_messages WHERE room_id = $1 ORDER BY created_at DESC, id DESC', [room]);
  const next = await ok<{ messages: Array<{ id: string }> }>(backend, 'chat_get_messages', { room_id: room, limit: 1, before: page.next_cursor });
  expect([...page.messages, ...next.messages].map((m) => m.id)).toEqual(rows.slice(0, page.messages.length + 1).map((r) => r.id));
});

it('shortens link-preview texts no column limit bounds', async () => {
  const room = fixture.rooms.community;
  await db.pool.query(`INSERT INTO link_previews (url, phenom_id, title, description) VALUES ('https://thephenom.app/p/' || repeat('u', 100000), 'huge', repeat('t', 100000), repeat('d', 100000))`);
  const { message } = await ok<{ message: { link_preview: { url: string; title: string; description: string } } }>(backend, 'chat_send_message', {
    room_id: room,
    content: 'look',
    message_type: 'phenom_link',
    phenom_id: 'huge',
  });
  expect([...message.link_preview.title].length).toBeLessThanOrEqual(300);
  expect([...message.link_preview.description].length).toBeLessThanOrEqual(1000);
  expect([...message.link_preview.url].length).toBeLessThanOrEqual(2048);
});

it('answers a result over the budget from a tool that has no pages with a sentence, not the result', async () => {
  // A tool of the tool layer's own kind whose answer no page size bounds.
  const huge = defineTool({
    name: 'test_huge',
    title: 'Huge',
    description: 'Answers more than a tool result may hold.',
    access: 'read',
    inputSchema: z.strictObject({}),
    outputSchema: z.object({ blob: z.string() }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run() {
      return { structured: { blob: 'x'.repeat(MAX_RESULT_BYTES) }, text: 'A blob.' };
    },
  });
  const rc = { requestId: 'budget', principal: { clientId: 'c', subject: 'c', scopes: ['chat/read'], groups: [], expiresAt: 0 }, canModerate: false, log: createLogger('error', {}, () => undefined) };
  const result = await callTool(huge as unknown as ChatTool, {}, backend, rc);
  expect(result).toEqual({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/^The result would be \d+ KiB; a tool result may hold 256 KiB/) }] });
  expect(rc).toMatchObject({ outcome: 'result_too_large' });
});

it('measures a result by the JSON the fast path sends, which is the result serialized to the byte', async () => {
  // Characters the text escapes for models (U+2028, a bidi override) and JSON escapes itself (a quote, a control).
  await db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, $2, $3)`, [fixture.rooms.partners, AGENT, 'a\u2028b \u202e "q" \u0001 \\ end']);
  const rc = { requestId: 'json', principal: { clientId: 'c', subject: 'c', scopes: ['chat/read'], groups: [], expiresAt: 0 }, canModerate: false, log: createLogger('error', {}, () => undefined) };
  const { result, json } = await runTool(TOOLS_BY_NAME.get('chat_get_messages')!, { room_id: fixture.rooms.partners, limit: 3 }, backend, rc);
  expect(json).toBe(JSON.stringify(result));
  expect(result.content[0]).toMatchObject({ text: expect.stringContaining('a\\u2028b \\u202e \\"q\\" \\u0001') });
});
