import { ChatError } from './types';

/**
 * What the agent may not do with bans, the same on every backend (and what Matrix itself enforces
 * through power levels, where the bot is the room's highest level):
 * - ban itself: a ban on the agent is a human's decision, and an agent told (by a message it read,
 *   say) to silence itself would otherwise do so;
 * - ban a room admin: admins are the people who moderate the agent; an agent acting on a forged or
 *   injected instruction must not be able to lock them out (support staff and users it may ban);
 * - lift its own ban: that would undo the one sanction a human can put on the agent.
 */
export const cannotBanSelf = (): ChatError => new ChatError('forbidden', 'The agent account cannot ban itself; a ban on the agent is for a human admin to set and to lift.');

export const cannotBanAdmin = (userId: string): ChatError => new ChatError('forbidden', `${userId} is an admin of this room, and the agent does not ban admins; a human admin can.`);

export const cannotUnbanSelf = (): ChatError => new ChatError('forbidden', 'The agent account cannot lift its own ban; a human admin set it and must lift it.');
