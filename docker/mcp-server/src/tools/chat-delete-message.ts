import { z } from 'zod';
import { defineTool, idField, roomIdField } from './common';

export const chatDeleteMessage = defineTool({
  name: 'chat_delete_message',
  title: 'Delete a message',
  description:
    'Deletes one message from a room (a soft delete: it disappears for users, moderators can still see it with include_deleted). ' +
    'Idempotent: deleting an already deleted message changes nothing and reports already_deleted: true.',
  access: 'moderate',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    message_id: idField('message_id').describe('The message id, as chat_get_messages returns it.'),
  }),
  outputSchema: z.object({ message_id: z.string(), already_deleted: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const r = await backend.deleteMessage({ roomId: args.room_id, messageId: args.message_id });
    return {
      structured: { message_id: r.messageId, already_deleted: r.alreadyDeleted },
      text: r.alreadyDeleted ? `Message ${r.messageId} was already deleted; nothing changed.` : `Deleted message ${r.messageId}.`,
    };
  },
});
