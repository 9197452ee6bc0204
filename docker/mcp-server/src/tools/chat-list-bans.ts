import { z } from 'zod';
import { BanOut, banOut, defineTool, idField, limitField, roomIdField, shrinkLimit } from './common';

export const MAX_BAN_PAGE = 500;

export const chatListBans = defineTool({
  name: 'chat_list_bans',
  title: 'List a room’s bans',
  description:
    'Lists the bans in force in a room, newest first: who is banned, by whom, why, since when and until when (expires_at null: permanent). ' +
    'An expired ban is not listed. Use it before chat_ban_user or chat_unban_user to see the current terms. ' +
    `Pages hold 100 bans by default and ${MAX_BAN_PAGE} at most; when next_cursor is not null, call again with after set to it. Needs moderation rights.`,
  // Seed 000's RBAC shows bans to support and admins only, never to plain users.
  access: 'moderate',
  inputSchema: z.strictObject({
    room_id: roomIdField,
    limit: limitField('bans', 100, MAX_BAN_PAGE),
    after: idField('after', 512).optional().describe('The next_cursor of the previous page, to continue. Leave it out for the first page.'),
  }),
  outputSchema: z.object({ bans: z.array(BanOut), next_cursor: z.string().nullable() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  shrink: shrinkLimit,
  async run(args, { backend }) {
    const page = await backend.listBans({ roomId: args.room_id, limit: args.limit, after: args.after });
    const bans = page.bans.map(banOut);
    const more = page.nextCursor ? ' More bans exist: call again with after set to next_cursor.' : '';
    return { structured: { bans, next_cursor: page.nextCursor }, text: bans.length ? `${bans.length} bans in force.${more}` : 'Nobody is banned from this room.', count: bans.length };
  },
});
