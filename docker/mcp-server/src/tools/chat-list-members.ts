import { z } from 'zod';
import { defineTool, memberOut, MemberOut, roomIdField } from './common';

export const chatListMembers = defineTool({
  name: 'chat_list_members',
  title: 'List a room’s members',
  description:
    'Lists the members of a room with their role (user, support, admin), whether they are muted (and until when) and when they joined. ' +
    'Pass role to list only members with that role. Use the user ids here for the moderation tools.',
  access: 'read',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    role: z.enum(['user', 'support', 'admin']).optional().describe('Only members with this role. Leave it out for everyone.'),
  }),
  outputSchema: z.object({ members: z.array(MemberOut) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(args, { backend }) {
    const members = (await backend.listMembers({ roomId: args.room_id, role: args.role })).map(memberOut);
    return { structured: { members }, text: members.length ? `${members.length} members.` : 'No members match.' };
  },
});
