/**
 * The MCP backend interface (contract C6). The tool layer talks only to a ChatBackend; the postgres,
 * hasura and synapse backends implement it. Ids are opaque strings the backend itself hands out
 * (chat_list_rooms, chat_get_messages, chat_list_members); the tool layer never parses them.
 */

export type MessageType = 'text' | 'phenom_link';

export type MemberRole = 'user' | 'support' | 'admin';

export interface Room {
  id: string;
  name: string;
  description: string | null;
  isActive: boolean;
  memberCount: number;
}

export interface LinkPreview {
  phenomId: string;
  url: string;
  title: string | null;
  description: string | null;
  thumbnailUrl: string | null;
  mediaType: string | null;
}

export interface Message {
  id: string;
  roomId: string;
  sender: { id: string; displayName: string | null };
  content: string;
  messageType: MessageType;
  phenomId: string | null;
  isDeleted: boolean;
  /** ISO 8601 timestamp. */
  createdAt: string;
  linkPreview: LinkPreview | null;
}

export interface Member {
  userId: string;
  displayName: string | null;
  role: MemberRole;
  isMuted: boolean;
  /** ISO 8601; null when the mute has no end (or the member is not muted). */
  mutedUntil: string | null;
  /** ISO 8601. */
  joinedAt: string;
}

export interface Ban {
  id: string;
  roomId: string;
  userId: string;
  bannedBy: string;
  reason: string | null;
  /** ISO 8601. */
  bannedAt: string;
  /** ISO 8601; null for a permanent ban. */
  expiresAt: string | null;
}

/** Newest first. `nextCursor` is opaque to callers; null when there is nothing older. */
export interface MessagePage {
  messages: Message[];
  nextCursor: string | null;
}

/** One page of a room's bans in force, newest first; `nextCursor` null on the last page. */
export interface BanPage {
  bans: Ban[];
  nextCursor: string | null;
}

/** One page of a room's members in the backend's stable order; `nextCursor` null on the last page. */
export interface MemberPage {
  members: Member[];
  nextCursor: string | null;
}

export interface ChatBackend {
  readonly kind: 'postgres' | 'hasura' | 'synapse';
  listRooms(): Promise<Room[]>;
  /** Newest first; `limit` is already validated (1..100); `before` is a cursor this backend issued (else invalid_cursor). */
  getMessages(q: { roomId: string; limit: number; before?: string; includeDeleted: boolean }): Promise<MessagePage>;
  /**
   * Posts as the agent account. The chat rules apply (not_member, muted, banned, room_inactive).
   * With a clientMessageId, a send whose key the agent already used in this room writes nothing and
   * returns that first message (originalForRetry: invalid_input when the content differs).
   */
  sendMessage(m: { roomId: string; content: string; messageType: MessageType; phenomId?: string; clientMessageId?: string }): Promise<Message>;
  /**
   * Soft delete / redaction. Idempotent: deleting a deleted message returns alreadyDeleted: true.
   * The message id alone finds the message (seed 000's chat_delete_message(message_id)); a roomId,
   * when given, must be the message's room (else message_not_found).
   */
  deleteMessage(d: { messageId: string; roomId?: string }): Promise<{ messageId: string; roomId: string; alreadyDeleted: boolean }>;
  /**
   * One page of members: `limit` is already validated (1..500); `after` is a cursor this backend
   * issued for this room (else invalid_cursor). A room can have tens of thousands of members, so
   * no call returns them all.
   */
  listMembers(q: { roomId: string; role?: MemberRole; limit: number; after?: string }): Promise<MemberPage>;
  /** `minutes` absent → muted until unmuted. The user must be a member (else not_member). */
  muteUser(m: { roomId: string; userId: string; minutes?: number }): Promise<Member>;
  unmuteUser(m: { roomId: string; userId: string }): Promise<Member>;
  /** `minutes` absent → permanent. Bans do not remove the membership. */
  banUser(b: { roomId: string; userId: string; reason: string; minutes?: number }): Promise<Ban>;
  /**
   * The bans in force in a room (an expired ban is history, not a ban), newest first, a page at a
   * time: `limit` 1..500, `after` a cursor this backend issued for this room.
   */
  listBans(q: { roomId: string; limit: number; after?: string }): Promise<BanPage>;
  /** Removes the active ban(s); wasBanned false when there was none. */
  unbanUser(b: { roomId: string; userId: string }): Promise<{ roomId: string; userId: string; wasBanned: boolean }>;
  /** Whether the backend is reachable; never throws. */
  health(): Promise<{ ok: boolean }>;
  close(): Promise<void>;
}

/** Every failure a tool can report is a ChatError with a code; the tool layer turns it into an isError result with the message. */
export type ChatErrorCode =
  | 'room_not_found'
  | 'user_not_found'
  | 'message_not_found'
  | 'not_member'
  | 'muted'
  | 'banned'
  | 'room_inactive'
  | 'content_too_long'
  | 'invalid_input'
  | 'invalid_cursor'
  | 'forbidden'
  /** The backend is up but this server has no free connection to it right now (pool exhausted). */
  | 'backend_busy'
  /** The answer would exceed the tool result budget (mcp/server-factory.ts MAX_RESULT_BYTES). */
  | 'result_too_large'
  | 'backend_unavailable';

export class ChatError extends Error {
  constructor(
    readonly code: ChatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** Settings every backend factory receives; each backend reads its own keys from `env`. */
export interface BackendContext {
  env: NodeJS.ProcessEnv;
  /** Structured logger (never pass tokens or message bodies at info). */
  log: BackendLogger;
}

export interface BackendLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Each backend folder exports one of these (hasura/index.ts → createHasuraBackend, synapse/index.ts → createSynapseBackend). */
export type BackendFactory = (ctx: BackendContext) => Promise<ChatBackend>;
