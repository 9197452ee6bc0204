import { TOOLS_BY_NAME } from '../../src/tools';
import { BACKEND_KINDS, call, ok, startBackend, type BackendUnderTest } from './backends';

describe('chat_send_message’s description for the agent', () => {
  it('tells the agent to pass a client_message_id and to reuse it only for a retry', () => {
    const tool = TOOLS_BY_NAME.get('chat_send_message')!;
    expect(tool.description).toMatch(/client_message_id/);
    expect(tool.description).toMatch(/retry/i);
    expect(tool.description).not.toMatch(/Not idempotent/);
    expect(() => tool.inputSchema.parse({ room_id: 'r', content: 'x', client_message_id: 'has space' })).toThrow(/client_message_id/);
    expect(() => tool.inputSchema.parse({ room_id: 'r', content: 'x', client_message_id: 'k'.repeat(129) })).toThrow();
  });
});

/**
 * One suite, every backend: the behaviour the tools promise, through the tool layer, on the real
 * schema (postgres, and hasura through the stand-in engine) and on the stand-in homeserver (synapse).
 */
describe.each(BACKEND_KINDS)('the chat tools on the %s backend', (kind) => {
  let t: BackendUnderTest;
  beforeAll(async () => {
    t = await startBackend(kind);
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe('chat_send_message with client_message_id', () => {
    type Sent = { message: { id: string; content: string; room_id: string } };

    it('a retry with the same client_message_id returns the original message and writes nothing', async () => {
      const args = { room_id: t.rooms.community, content: 'exactly once', client_message_id: `retry-${kind}-1` };
      const first = await ok<Sent>(t.backend, 'chat_send_message', args);
      const second = await ok<Sent>(t.backend, 'chat_send_message', args);
      expect(second).toEqual(first);
      expect(await t.storedMessages(t.rooms.community, 'exactly once')).toBe(1);
      // Without a key, every call is a new message.
      await ok(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'twice' });
      await ok(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'twice' });
      expect(await t.storedMessages(t.rooms.community, 'twice')).toBe(2);
    });

    it('refuses a client_message_id reused for a different message, and sends nothing', async () => {
      const key = `reused-${kind}`;
      const { message } = await ok<Sent>(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'the first text', client_message_id: key });
      const reused = await call(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'a second text', client_message_id: key });
      expect(reused).toMatchObject({ isError: true, text: expect.stringContaining(`client_message_id "${key}" was already used`) });
      expect(reused.text).toContain(message.id);
      expect(await t.storedMessages(t.rooms.community, 'a second text')).toBe(0);
    });

    it('scopes the key to the room: the same client_message_id in another room is another message', async () => {
      const key = `per-room-${kind}`;
      const a = await ok<Sent>(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'per room', client_message_id: key });
      const b = await ok<Sent>(t.backend, 'chat_send_message', { room_id: t.rooms.internal, content: 'per room', client_message_id: key });
      expect(b.message.id).not.toBe(a.message.id);
      expect([await t.storedMessages(t.rooms.community, 'per room'), await t.storedMessages(t.rooms.internal, 'per room')]).toEqual([1, 1]);
    });

    it('returns a deleted original as deleted, and does not post it again', async () => {
      const args = { room_id: t.rooms.community, content: 'deleted, then retried', client_message_id: `deleted-${kind}` };
      const { message } = await ok<Sent>(t.backend, 'chat_send_message', args);
      await ok(t.backend, 'chat_delete_message', { message_id: message.id });
      expect(await ok<Sent>(t.backend, 'chat_send_message', args)).toMatchObject({ message: { id: message.id, is_deleted: true } });
      const { messages } = await ok<{ messages: Array<{ id: string }> }>(t.backend, 'chat_get_messages', { room_id: t.rooms.community, limit: 3 });
      expect(messages.map((m) => m.id)).not.toContain(message.id);
    });

    // On synapse the bot cannot lift a mute on itself (it would need the power level the mute took),
    // and the homeserver answers a known transaction id before any authorization anyway.
    (kind === 'synapse' ? it.skip : it)('a retry still returns the original after the agent was muted', async () => {
      const args = { room_id: t.rooms.partners, content: 'sent before the mute', client_message_id: `muted-${kind}` };
      const first = await ok<Sent>(t.backend, 'chat_send_message', args);
      await ok(t.backend, 'chat_mute_user', { room_id: t.rooms.partners, user_id: t.agent, minutes: 5 });
      try {
        expect(await ok<Sent>(t.backend, 'chat_send_message', args)).toEqual(first);
        expect(await call(t.backend, 'chat_send_message', { ...args, client_message_id: `muted-${kind}-new` })).toMatchObject({ isError: true, text: expect.stringMatching(/muted/) });
      } finally {
        await ok(t.backend, 'chat_unmute_user', { room_id: t.rooms.partners, user_id: t.agent });
      }
    });
  });

  describe('chat_delete_message', () => {
    it('deletes by message_id alone, as seed 000 calls it, and reports the room', async () => {
      const { message } = await ok<{ message: { id: string } }>(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'delete me by id' });
      expect(await ok(t.backend, 'chat_delete_message', { message_id: message.id })).toEqual({ message_id: message.id, room_id: t.rooms.community, already_deleted: false });
      expect(await ok(t.backend, 'chat_delete_message', { message_id: message.id })).toEqual({ message_id: message.id, room_id: t.rooms.community, already_deleted: true });
      const { messages } = await ok<{ messages: Array<{ id: string; is_deleted: boolean }> }>(t.backend, 'chat_get_messages', { room_id: t.rooms.community, include_deleted: true, limit: 5 });
      expect(messages.find((m) => m.id === message.id)).toMatchObject({ is_deleted: true });
    });

    it('still accepts room_id, and a room_id that is not the message’s room finds no message', async () => {
      const { message } = await ok<{ message: { id: string } }>(t.backend, 'chat_send_message', { room_id: t.rooms.community, content: 'wrong room' });
      const elsewhere = await call(t.backend, 'chat_delete_message', { room_id: t.rooms.partners, message_id: message.id });
      expect(elsewhere).toMatchObject({ isError: true, text: expect.stringMatching(/message not found/i) });
      expect(await ok(t.backend, 'chat_delete_message', { room_id: t.rooms.community, message_id: message.id })).toMatchObject({ already_deleted: false });
    });

    it('reports an unknown message id as not found', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', '$unknown-event', 'garbage']) {
        expect(await call(t.backend, 'chat_delete_message', { message_id: id })).toMatchObject({ isError: true, text: expect.stringMatching(/message not found|room/i) });
      }
    });
  });
});
