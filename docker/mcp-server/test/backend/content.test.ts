import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import type { TestDatabase } from '../../../../test/support/postgres';
import { MAX_MESSAGE_CHARS, requireWithinContentLimit } from '../../src/backend/content';
import { AGENT, seedChat } from '../support/chat-fixture';

describe('the message content limit', () => {
  let db: TestDatabase;
  let room: string;
  beforeAll(async () => {
    db = await createMigratedDatabase('content');
    room = (await seedChat(db.pool)).rooms.internal;
  });
  afterAll(() => db?.drop());

  const insert = (content: string) => db.pool.query("INSERT INTO chat_messages (room_id, user_id, content, message_type) VALUES ($1, $2, $3, 'text')", [room, AGENT, content]);

  it("is the migrated schema's CHECK, counted in characters as Postgres counts them", async () => {
    // Astral characters: one code point each, two UTF-16 units, four bytes.
    await expect(insert('😀'.repeat(MAX_MESSAGE_CHARS))).resolves.toBeDefined();
    await expect(insert('😀'.repeat(MAX_MESSAGE_CHARS + 1))).rejects.toMatchObject({ code: '23514', constraint: 'chat_messages_content_check' });
  });

  it('refuses before any backend call exactly what the schema refuses', () => {
    expect(() => requireWithinContentLimit('😀'.repeat(MAX_MESSAGE_CHARS))).not.toThrow();
    expect(() => requireWithinContentLimit('😀'.repeat(MAX_MESSAGE_CHARS + 1))).toThrow(
      expect.objectContaining({ code: 'content_too_long', message: expect.stringContaining(`${MAX_MESSAGE_CHARS + 1} characters; the limit is ${MAX_MESSAGE_CHARS}`) }),
    );
  });
});
