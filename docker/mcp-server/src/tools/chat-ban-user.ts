import { z } from 'zod';
import { BanOut, banOut, defineTool, minutesField, roomIdField, userIdField, withoutNul } from './common';

export const chatBanUser = defineTool({
  name: 'chat_ban_user',
  title: 'Ban a user from a room',
  description:
    'Bans a user from a room with a reason, for the given number of minutes or permanently when minutes is left out, and returns the ban record. ' +
    'A banned member keeps their membership but cannot post until the ban ends or chat_unban_user lifts it. ' +
    'A user who is already banned cannot be banned again: unban first to change the terms (chat_list_bans shows them). ' +
    'The agent never bans itself or a room admin (role admin): those calls are refused, and a human admin decides them.',
  access: 'moderate',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    user_id: userIdField,
    reason: withoutNul(z.string().trim().min(1, 'reason must say why the user is banned').max(1000), 'reason').describe('Why the user is banned (kept in the ban record, 1 to 1000 characters).'),
    minutes: minutesField.optional(),
  }),
  outputSchema: z.object({ ban: BanOut }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, { backend }) {
    const ban = banOut(await backend.banUser({ roomId: args.room_id, userId: args.user_id, reason: args.reason, minutes: args.minutes }));
    return { structured: { ban }, text: `Banned the user ${ban.expires_at ? 'until expires_at' : 'permanently'}; the ban record follows.` };
  },
});
