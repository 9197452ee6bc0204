import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '../backend/content';
import { defineTool, idField, messageOut, MessageOut, roomIdField, withoutNul } from './common';

export const chatSendMessage = defineTool({
  name: 'chat_send_message',
  title: 'Send a message',
  description:
    'Posts a message to a room as the agent account. message_type "text" (the default) is plain text; "phenom_link" shares Phenom content ' +
    `and needs its phenom_id (the app then shows a preview card). Content is at most ${MAX_MESSAGE_CHARS} characters. ` +
    'The room’s rules apply: the agent must be a member, not muted or banned, and the room must be active. ' +
    'Always pass client_message_id, a new UUID for every new message: if a call fails or times out without an answer, retry it with the same ' +
    'client_message_id (and the same content), and you get the message the first call stored instead of posting it twice. ' +
    'Without client_message_id every call posts a new message. A client_message_id already used for different content in the room is refused.',
  access: 'moderate',
  inputSchema: z
    .strictObject({
      room_id: roomIdField,
      content: withoutNul(z.string().min(1, 'content must not be empty'), 'content')
        // Counted in characters (code points), as the database's char_length check counts them.
        .superRefine((s, ctx) => {
          const length = [...s].length;
          if (length > MAX_MESSAGE_CHARS) {
            ctx.addIssue({ code: 'custom', message: `content is ${length} characters long; the limit is ${MAX_MESSAGE_CHARS}. Shorten it or split it into several messages.` });
          }
        })
        .describe(`The message text, 1 to ${MAX_MESSAGE_CHARS} characters.`),
      message_type: z.enum(['text', 'phenom_link']).default('text').describe('"text" (default) or "phenom_link" (then phenom_id is required).'),
      phenom_id: idField('phenom_id').optional().describe('The Phenom content id the message links to. Required for phenom_link, not allowed for text.'),
      client_message_id: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[A-Za-z0-9._:~-]+$/, 'client_message_id may hold only letters, digits and . _ : ~ - (a UUID is ideal)')
        .optional()
        .describe('Your own id for this message, e.g. a new UUID (1 to 128 letters, digits, . _ : ~ -). A retry with the same id returns the stored message and posts nothing.'),
    })
    .superRefine((v, ctx) => {
      if (v.message_type === 'phenom_link' && !v.phenom_id) {
        ctx.addIssue({ code: 'custom', path: ['phenom_id'], message: 'a phenom_link message needs phenom_id (the Phenom content id it links to)' });
      }
      if (v.message_type === 'text' && v.phenom_id) {
        ctx.addIssue({ code: 'custom', path: ['phenom_id'], message: 'phenom_id is only for message_type "phenom_link"; leave it out or set message_type' });
      }
    }),
  outputSchema: z.object({ message: MessageOut }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, { backend }) {
    const message = messageOut(
      await backend.sendMessage({ roomId: args.room_id, content: args.content, messageType: args.message_type, phenomId: args.phenom_id, clientMessageId: args.client_message_id }),
    );
    return { structured: { message }, text: 'Sent the message; it follows as stored.' };
  },
});
