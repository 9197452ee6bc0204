import { z } from 'zod';
import { defineTool, idField } from './common';

/** A synapse message id names its room and event ("!room:server/$event"): up to 255 characters each. */
const MAX_MESSAGE_ID = 520;

export const chatDeleteMessage = defineTool({
  name: 'chat_delete_message',
  title: 'Delete a message',
  description:
    'Deletes one message (a soft delete: it disappears for users, moderators can still see it with include_deleted). ' +
    'Pass the message_id exactly as chat_get_messages or chat_send_message returned it; the id alone is enough. ' +
    'Idempotent: deleting an already deleted message changes nothing and reports already_deleted: true.',
  access: 'moderate',
  inputSchema: z.strictObject({
    message_id: idField('message_id', MAX_MESSAGE_ID).describe('The message id, as chat_get_messages or chat_send_message returns it.'),
    room_id: idField('room_id').optional().describe('Optional. The room the message is in; leave it out. When given it must be the message’s own room, or the message is not found.'),
  }),
  outputSchema: z.object({ message_id: z.string(), room_id: z.string(), already_deleted: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const r = await backend.deleteMessage({ messageId: args.message_id, roomId: args.room_id });
    return {
      structured: { message_id: r.messageId, room_id: r.roomId, already_deleted: r.alreadyDeleted },
      text: r.alreadyDeleted ? 'The message was already deleted; nothing changed.' : 'Deleted the message.',
    };
  },
});
