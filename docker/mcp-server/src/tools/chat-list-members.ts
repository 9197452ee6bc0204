import { z } from 'zod';
import { defineTool, idField, limitField, memberOut, MemberOut, roomIdField, shrinkLimit } from './common';

export const MAX_MEMBER_PAGE = 500;

export const chatListMembers = defineTool({
  name: 'chat_list_members',
  title: 'List a room’s members',
  description:
    'Lists one page of a room’s members with their role (user, support, admin), whether they are muted (and until when) and when they joined. ' +
    `Pages hold 100 members by default and ${MAX_MEMBER_PAGE} at most, in a stable order; when next_cursor is not null, call again with after ` +
    'set to it for the next page. A page can hold fewer members than limit when the result would be too large (long display names); ' +
    'follow next_cursor all the same. Pass role to list only members with that role. Use the user ids here for the moderation tools.',
  access: 'read',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    role: z.enum(['user', 'support', 'admin']).optional().describe('Only members with this role. Leave it out for everyone.'),
    limit: limitField('members', 100, MAX_MEMBER_PAGE),
    after: idField('after', 512).optional().describe('The next_cursor of the previous page, to continue. Leave it out for the first page.'),
  }),
  outputSchema: z.object({ members: z.array(MemberOut), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  shrink: shrinkLimit,
  async run(args, { backend }) {
    const page = await backend.listMembers({ roomId: args.room_id, role: args.role, limit: args.limit, after: args.after });
    const members = page.members.map(memberOut);
    const more = page.nextCursor ? ' More members exist: call again with after set to next_cursor.' : '';
    return { structured: { members, next_cursor: page.nextCursor }, text: members.length ? `${members.length} members.${more}` : 'No members match.', count: members.length };
  },
});
