import { z } from 'zod';
import { defineTool, memberOut, MemberOut, minutesField, roomIdField, userIdField } from './common';

export const chatMuteUser = defineTool({
  name: 'chat_mute_user',
  title: 'Mute a member',
  description:
    'Mutes a member of a room so they cannot post there: for the given number of minutes, or until chat_unmute_user when minutes is left out. ' +
    'Muting again replaces the previous end time. The user must be a member of the room.',
  access: 'moderate',
  inputSchema: z.strictObject({ room_id: roomIdField, user_id: userIdField, minutes: minutesField.optional() }),
  outputSchema: z.object({ member: MemberOut }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const member = memberOut(await backend.muteUser({ roomId: args.room_id, userId: args.user_id, minutes: args.minutes }));
    return { structured: { member }, text: `Muted the member ${member.muted_until ? 'until muted_until' : 'until chat_unmute_user lifts it'}; the member record follows.` };
  },
});
