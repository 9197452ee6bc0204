import { z } from 'zod';
import { defineTool, roomOut, RoomOut } from './common';

export const chatListRooms = defineTool({
  name: 'chat_list_rooms',
  title: 'List chat rooms',
  description:
    'Lists every chat room with its id, name, description, whether it is active (accepts new messages) and its member count. ' +
    'Call this first: every other chat tool takes a room_id from this list, not a room name.',
  access: 'read',
  inputSchema: z.strictObject({}),
  outputSchema: z.object({ rooms: z.array(RoomOut) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async run(_args, { backend }) {
    const rooms = (await backend.listRooms()).map(roomOut);
    return { structured: { rooms }, text: rooms.length ? `${rooms.length} rooms; pass a room's id (not its name) to the other chat tools.` : 'There are no rooms.' };
  },
});
