import { BACKEND_KINDS, call, ok, startBackend, type BackendUnderTest } from './backends';

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
