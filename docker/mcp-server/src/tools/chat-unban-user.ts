import { z } from 'zod';
import { defineTool, roomIdField, userIdField } from './common';

export const chatUnbanUser = defineTool({
  name: 'chat_unban_user',
  title: 'Lift a ban',
  description:
    'Lifts a user’s ban in a room so they can post again (if they are a member). Unbanning someone who is not banned changes nothing and reports was_banned: false. ' +
    'The agent cannot lift a ban on itself: a human admin set it and lifts it.',
  access: 'moderate',
  inputSchema: z.strictObject({ room_id: roomIdField, user_id: userIdField }),
  outputSchema: z.object({ room_id: z.string(), user_id: z.string(), was_banned: z.boolean() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const r = await backend.unbanUser({ roomId: args.room_id, userId: args.user_id });
    return {
      structured: { room_id: r.roomId, user_id: r.userId, was_banned: r.wasBanned },
      text: r.wasBanned ? 'Lifted the ban.' : 'The user was not banned in this room; nothing changed.',
    };
  },
});
