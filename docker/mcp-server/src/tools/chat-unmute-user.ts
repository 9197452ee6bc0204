import { z } from 'zod';
import { defineTool, memberOut, MemberOut, roomIdField, userIdField } from './common';

export const chatUnmuteUser = defineTool({
  name: 'chat_unmute_user',
  title: 'Unmute a member',
  description: 'Lifts a member’s mute in a room so they can post again. Unmuting someone who is not muted changes nothing. The user must be a member of the room.',
  access: 'moderate',
  inputSchema: z.strictObject({ room_id: roomIdField, user_id: userIdField }),
  outputSchema: z.object({ member: MemberOut }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const member = memberOut(await backend.unmuteUser({ roomId: args.room_id, userId: args.user_id }));
    return { structured: { member }, text: 'The member is no longer muted in this room.' };
  },
});
