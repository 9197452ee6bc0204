import { z } from 'zod';
import { ChatError } from '../backend/types';
import { defineTool, idField, limitField, messageOut, MessageOut, roomIdField, shrinkLimit } from './common';

export const MAX_PAGE = 100;

export const chatGetMessages = defineTool({
  name: 'chat_get_messages',
  title: 'Read a room’s messages',
  description:
    'Returns a page of messages from one room, newest first, each with its sender, type, phenom_id and resolved link preview. ' +
    `Pages hold at most ${MAX_PAGE} messages (default 50). To read further back, call again with before set to the next_cursor ` +
    'of the previous page; next_cursor is null once the oldest message has been returned. A page can hold fewer messages than limit ' +
    'when the result would be too large (long messages); follow next_cursor all the same. ' +
    'Deleted messages are left out; moderators may pass include_deleted: true to see them.',
  access: 'read',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    limit: limitField('messages', 50, MAX_PAGE),
    before: idField('before', 512).optional().describe('The next_cursor of the previous page, to continue with older messages. Leave it out for the newest page.'),
    include_deleted: z.boolean().default(false).describe('Also return soft-deleted messages (is_deleted: true). Needs moderation rights.'),
  }),
  outputSchema: z.object({ messages: z.array(MessageOut), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  shrink: shrinkLimit,
  needsModeration: (raw) => typeof raw === 'object' && raw !== null && (raw as { include_deleted?: unknown }).include_deleted === true,
  async run(args, { backend, canModerate }) {
    if (args.include_deleted && !canModerate) throw new ChatError('forbidden', 'include_deleted needs moderation rights; call again without it.');
    const page = await backend.getMessages({ roomId: args.room_id, limit: args.limit, before: args.before, includeDeleted: args.include_deleted });
    const messages = page.messages.map(messageOut);
    const more = page.nextCursor ? 'Older messages exist: call again with before set to next_cursor.' : 'This is the oldest page.';
    return {
      structured: { messages, next_cursor: page.nextCursor },
      text: `${messages.length} messages, newest first. ${more}`,
      count: messages.length,
    };
  },
});
