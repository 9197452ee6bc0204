import { chatBanUser } from './chat-ban-user';
import { chatDeleteMessage } from './chat-delete-message';
import { chatGetMessages } from './chat-get-messages';
import { chatListBans } from './chat-list-bans';
import { chatListMembers } from './chat-list-members';
import { chatListRooms } from './chat-list-rooms';
import { chatMuteUser } from './chat-mute-user';
import { chatSendMessage } from './chat-send-message';
import { chatUnbanUser } from './chat-unban-user';
import { chatUnmuteUser } from './chat-unmute-user';
import type { ChatTool } from './common';

/** The chat tools, in the order tools/list shows them. */
export const CHAT_TOOLS: readonly ChatTool[] = [
  chatListRooms,
  chatGetMessages,
  chatSendMessage,
  chatDeleteMessage,
  chatListMembers,
  chatMuteUser,
  chatUnmuteUser,
  chatBanUser,
  chatUnbanUser,
  chatListBans,
] as unknown as readonly ChatTool[];

export const TOOLS_BY_NAME: ReadonlyMap<string, ChatTool> = new Map(CHAT_TOOLS.map((t) => [t.name, t]));
