import { randomUUID } from 'node:crypto';
import { Ban, BanPage, ChatBackend, ChatError, Member, MemberPage, MemberRole, Message, MessagePage, MessageType, Room } from '../types';
import { originalForRetry } from '../client-message-id';
import { requireWithinContentLimit } from '../content';
import { cannotBanAdmin, cannotBanSelf, cannotUnbanSelf } from '../moderation';
import { HasuraClient, HasuraGraphQLError } from '../../../../../chat-clients/hasura-client';
import { HttpError } from '../../../../../chat-clients/http';
import { HASURA_ROLE_OF } from '../../../../../chat-domain/groups';
import { CognitoAuthError, CognitoTokenProvider } from './cognito-token';
import * as docs from './documents';
import { ErrorContext, mapHasuraError } from './errors';

/**
 * The Hasura roles the agent account acts as (it is in chat-admin, contract C3): `chat_admin`, seed
 * 000's admin RBAC row, for reads and moderation; `user` to post, because chat_admin has no INSERT on
 * chat_messages. Never `admin`: Hasura reserves it for its unrestricted superuser, and our tokens
 * do not allow it.
 */
export type AgentRole = (typeof HASURA_ROLE_OF)['admin' | 'user'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A timestamptz exactly as Hasura prints it (2026-01-02T03:04:05.123456+00:00): what a cursor this backend issued holds. */
const HASURA_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:\d{2}|Z)$/;

interface UserRow {
  id?: string;
  display_name: string | null;
  username: string | null;
}
interface MessageRow {
  id: string;
  room_id: string;
  user_id: string;
  content: string;
  message_type: string | null;
  phenom_id: string | null;
  is_deleted: boolean | null;
  created_at: string;
  sender: UserRow | null;
  link_preview: {
    phenom_id: string | null;
    url: string;
    title: string | null;
    description: string | null;
    thumbnail_url: string | null;
    media_type: string | null;
  } | null;
}
interface MemberRow {
  user_id: string;
  role: string | null;
  is_muted: boolean | null;
  muted_until: string | null;
  joined_at: string;
  user: UserRow | null;
}
interface BanRow {
  id: string;
  room_id: string;
  user_id: string;
  banned_by: string;
  reason: string | null;
  banned_at: string;
  expires_at: string | null;
}

export interface HasuraBackendOptions {
  readonly client: HasuraClient;
  readonly tokens: CognitoTokenProvider;
  /** Milliseconds since the epoch; injectable so tests can pin mute and ban expiries. */
  readonly now?: () => number;
}

const iso = (timestamp: string | null): string | null => (timestamp === null ? null : new Date(timestamp).toISOString());
const displayName = (user: UserRow | null): string | null => user?.display_name ?? user?.username ?? null;

function toMessage(row: MessageRow): Message {
  const preview = row.link_preview;
  return {
    id: row.id,
    roomId: row.room_id,
    sender: { id: row.user_id, displayName: displayName(row.sender) },
    content: row.content,
    messageType: (row.message_type ?? 'text') as MessageType,
    phenomId: row.phenom_id,
    isDeleted: row.is_deleted ?? false,
    createdAt: iso(row.created_at)!,
    // A preview belongs to phenom_link messages only, once the link-preview Lambda resolved it.
    linkPreview:
      row.message_type === 'phenom_link' && preview && preview.phenom_id
        ? {
            phenomId: preview.phenom_id,
            url: preview.url,
            title: preview.title,
            description: preview.description,
            thumbnailUrl: preview.thumbnail_url,
            mediaType: preview.media_type,
          }
        : null,
  };
}

/** Mute state as it applies now: an expired mute is no mute (the chat-rules trigger reads it the same way). */
function toMember(row: MemberRow, nowMs: number): Member {
  const isMuted = Boolean(row.is_muted) && (row.muted_until === null || Date.parse(row.muted_until) > nowMs);
  return {
    userId: row.user_id,
    displayName: displayName(row.user),
    role: (row.role ?? 'user') as MemberRole,
    isMuted,
    mutedUntil: isMuted ? iso(row.muted_until) : null,
    joinedAt: iso(row.joined_at)!,
  };
}

function toBan(row: BanRow): Ban {
  return {
    id: row.id,
    roomId: row.room_id,
    userId: row.user_id,
    bannedBy: row.banned_by,
    reason: row.reason,
    bannedAt: iso(row.banned_at)!,
    expiresAt: iso(row.expires_at),
  };
}

/**
 * The cursor is the last row's (created_at, id) exactly as Hasura returned them (microseconds
 * included, so the keyset comparison is exact), bound to its room so it cannot page another one.
 */
interface Cursor {
  r: string;
  t: string;
  i: string;
}
function encodeCursor(roomId: string, row: MessageRow): string {
  return Buffer.from(JSON.stringify({ r: roomId, t: row.created_at, i: row.id } satisfies Cursor)).toString('base64url');
}
function decodeCursor(roomId: string, cursor: string): Cursor {
  let parsed: Partial<Cursor> | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed.t !== 'string' || !HASURA_TIMESTAMP.test(parsed.t) || Number.isNaN(Date.parse(parsed.t)) || typeof parsed.i !== 'string' || !UUID.test(parsed.i)) {
    throw new ChatError('invalid_cursor', 'The cursor is not one chat_get_messages returned; pass next_cursor from the previous page unchanged, or omit it to start from the newest message.');
  }
  if (parsed.r !== roomId) throw new ChatError('invalid_cursor', 'The cursor belongs to another room; use it only with the room it came from.');
  return parsed as Cursor;
}

/**
 * A member- or ban-list cursor: the page's last row, its (joined_at | banned_at) exactly as Hasura
 * returned it and its user id | ban id; `k` tells the lists apart (each names a place in one order).
 */
type ListKind = 'members' | 'bans';
const LIST_TOOLS: Record<ListKind, string> = { members: 'chat_list_members', bans: 'chat_list_bans' };
function encodeListCursor(kind: ListKind, roomId: string, t: string, i: string): string {
  return Buffer.from(JSON.stringify({ k: kind, r: roomId, t, i })).toString('base64url');
}
function decodeListCursor(kind: ListKind, roomId: string, cursor: string): { t: string; i: string } {
  let parsed: { k?: unknown; r?: unknown; t?: unknown; i?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.k !== kind || typeof parsed.t !== 'string' || !HASURA_TIMESTAMP.test(parsed.t) || typeof parsed.i !== 'string' || !parsed.i || (kind === 'bans' && !UUID.test(parsed.i))) {
    throw new ChatError('invalid_cursor', `The cursor is not one ${LIST_TOOLS[kind]} returned; pass next_cursor from the previous page unchanged, or omit it to start again.`);
  }
  if (parsed.r !== roomId) throw new ChatError('invalid_cursor', 'The cursor belongs to another room; use it only with the room it came from.');
  return { t: parsed.t, i: parsed.i };
}

/**
 * Contract C6 over Hasura GraphQL, as the agent's Cognito identity: role `chat_admin` (seed 000's
 * admin RBAC row) for reads and moderation, role `user` to post (see AgentRole). Every document
 * sets only the columns hasura-metadata/ lets its role set; the rest are presets or defaults.
 */
export class HasuraBackend implements ChatBackend {
  readonly kind = 'hasura' as const;
  private readonly client: HasuraClient;
  private readonly tokens: CognitoTokenProvider;
  private readonly now: () => number;

  constructor(options: HasuraBackendOptions) {
    this.client = options.client;
    this.tokens = options.tokens;
    this.now = options.now ?? Date.now;
  }

  async listRooms(): Promise<Room[]> {
    const data = await this.call<{
      chat_rooms: Array<{ id: string; name: string; description: string | null; is_active: boolean | null; members_aggregate: { aggregate: { count: number } | null } }>;
    }>('chat_admin', 'ListRooms', docs.LIST_ROOMS);
    return data.chat_rooms.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      isActive: r.is_active ?? true,
      memberCount: r.members_aggregate.aggregate?.count ?? 0,
    }));
  }

  async getMessages(q: { roomId: string; limit: number; before?: string; includeDeleted: boolean }): Promise<MessagePage> {
    this.requireRoomId(q.roomId);
    const and: Record<string, unknown>[] = [{ room_id: { _eq: q.roomId } }];
    if (!q.includeDeleted) and.push({ is_deleted: { _eq: false } });
    if (q.before !== undefined) {
      const c = decodeCursor(q.roomId, q.before);
      and.push({ _or: [{ created_at: { _lt: c.t } }, { created_at: { _eq: c.t }, id: { _lt: c.i } }] });
    }
    // One extra row tells whether an older page exists without a count query.
    const data = await this.call<{ chat_rooms_by_pk: { id: string } | null; chat_messages: MessageRow[] }>(
      'chat_admin',
      'GetMessages',
      docs.GET_MESSAGES,
      { roomId: q.roomId, where: { _and: and }, limit: q.limit + 1 },
      { roomId: q.roomId },
    );
    if (!data.chat_rooms_by_pk) throw this.roomNotFound(q.roomId);
    const rows = data.chat_messages.slice(0, q.limit);
    const last = rows[rows.length - 1];
    return {
      messages: rows.map(toMessage),
      nextCursor: data.chat_messages.length > q.limit && last ? encodeCursor(q.roomId, last) : null,
    };
  }

  async sendMessage(m: { roomId: string; content: string; messageType: MessageType; phenomId?: string; clientMessageId?: string }): Promise<Message> {
    this.requireRoomId(m.roomId);
    requireWithinContentLimit(m.content);
    if (m.messageType === 'phenom_link' && !m.phenomId) throw new ChatError('invalid_input', 'A phenom_link message needs a phenom_id.');
    const agent = await this.agent();
    const key = m.clientMessageId;
    // Posting needs the role `user` (chat_admin has no INSERT on chat_messages), which presets
    // user_id from the token's x-hasura-user-id: the object must not name it. The id is ours, so a
    // row the role cannot read back can still be found.
    const object = { id: randomUUID(), room_id: m.roomId, content: m.content, message_type: m.messageType, phenom_id: m.phenomId ?? null, client_message_id: key ?? null };
    let inserted: MessageRow | null;
    try {
      inserted = (await this.request<{ insert_chat_messages_one: MessageRow | null }>('user', 'SendMessage', docs.SEND_MESSAGE, { object })).insert_chat_messages_one;
    } catch (error) {
      if (!(error instanceof HasuraGraphQLError)) throw error;
      // The rules trigger fires before the conflict check: a rule that changed since the first send
      // (a mute, a ban) must not hide the message that send stored.
      const original = key ? await this.messageByClientId(m.roomId, agent, key) : undefined;
      if (original) return originalForRetry(original, m, key!);
      throw mapHasuraError(error, { roomId: m.roomId, userId: agent }) ?? (await this.diagnoseSend(m.roomId, agent));
    }
    if (inserted) return toMessage(inserted);
    // null: the key conflicted (ON CONFLICT DO NOTHING inserted nothing), or the new row is outside
    // the role's select permission. Either way chat_admin reads what is stored.
    const original = key ? await this.messageByClientId(m.roomId, agent, key) : await this.messageById(object.id);
    if (!original) throw new ChatError('backend_unavailable', 'The message was neither stored nor found; try again with the same client_message_id.');
    return key ? originalForRetry(original, m, key) : original;
  }

  private async banTarget(roomId: string, userId: string): Promise<{ role?: string; banned: boolean }> {
    const data = await this.call<{ chat_members: Array<{ role: string | null }>; chat_bans: Array<{ id: string }> }>('chat_admin', 'BanTarget', docs.BAN_TARGET, {
      roomId,
      userId,
      now: new Date(this.now()).toISOString(),
    });
    return { role: data.chat_members[0]?.role ?? undefined, banned: data.chat_bans.length > 0 };
  }

  private async messageById(id: string): Promise<Message | undefined> {
    const row = (await this.call<{ chat_messages_by_pk: MessageRow | null }>('chat_admin', 'GetMessage', docs.GET_MESSAGE, { id })).chat_messages_by_pk;
    return row ? toMessage(row) : undefined;
  }

  private async messageByClientId(roomId: string, userId: string, clientMessageId: string): Promise<Message | undefined> {
    const data = await this.call<{ chat_messages: MessageRow[] }>('chat_admin', 'GetMessageByClientId', docs.GET_MESSAGE_BY_CLIENT_ID, { roomId, userId, clientMessageId });
    return data.chat_messages[0] ? toMessage(data.chat_messages[0]) : undefined;
  }

  async deleteMessage(d: { messageId: string; roomId?: string }): Promise<{ messageId: string; roomId: string; alreadyDeleted: boolean }> {
    if (d.roomId !== undefined) this.requireRoomId(d.roomId);
    if (!UUID.test(d.messageId)) throw this.messageNotFound(d.messageId, d.roomId);
    const agent = await this.agent();
    const where: Record<string, unknown> = { id: { _eq: d.messageId }, is_deleted: { _eq: false } };
    if (d.roomId !== undefined) where.room_id = { _eq: d.roomId };
    const updated = await this.call<{ update_chat_messages: { affected_rows: number; returning: Array<{ id: string; room_id: string }> } | null }>(
      'chat_admin',
      'SoftDeleteMessage',
      docs.SOFT_DELETE_MESSAGE,
      { where, deletedBy: agent },
      { roomId: d.roomId },
    );
    const deleted = updated.update_chat_messages?.returning[0];
    if (deleted) return { messageId: d.messageId, roomId: deleted.room_id, alreadyDeleted: false };
    const existing = (await this.call<{ chat_messages_by_pk: MessageRow | null }>('chat_admin', 'GetMessage', docs.GET_MESSAGE, { id: d.messageId })).chat_messages_by_pk;
    if (existing && (d.roomId === undefined || existing.room_id === d.roomId) && existing.is_deleted) return { messageId: d.messageId, roomId: existing.room_id, alreadyDeleted: true };
    if (d.roomId !== undefined) await this.requireRoom(d.roomId);
    throw this.messageNotFound(d.messageId, d.roomId);
  }

  async listMembers(q: { roomId: string; role?: MemberRole; limit: number; after?: string }): Promise<MemberPage> {
    this.requireRoomId(q.roomId);
    const and: Record<string, unknown>[] = [];
    if (q.role) and.push({ role: { _eq: q.role } });
    if (q.after !== undefined) {
      const c = decodeListCursor('members', q.roomId, q.after);
      and.push({ _or: [{ joined_at: { _gt: c.t } }, { joined_at: { _eq: c.t }, user_id: { _gt: c.i } }] });
    }
    const { rows, nextCursor } = await this.roomPage<MemberRow>('ListMembers', docs.LIST_MEMBERS, 'members', q, and, (last) => [last.joined_at, last.user_id]);
    return { members: rows.map((row) => toMember(row, this.now())), nextCursor };
  }

  async muteUser(m: { roomId: string; userId: string; minutes?: number }): Promise<Member> {
    const mutedUntil = m.minutes === undefined ? null : new Date(this.now() + m.minutes * 60_000).toISOString();
    return this.setMute(m.roomId, m.userId, true, mutedUntil);
  }

  async unmuteUser(m: { roomId: string; userId: string }): Promise<Member> {
    return this.setMute(m.roomId, m.userId, false, null);
  }

  async banUser(b: { roomId: string; userId: string; reason: string; minutes?: number }): Promise<Ban> {
    this.requireRoomId(b.roomId);
    if (b.userId === (await this.agent())) throw cannotBanSelf();
    if ((await this.banTarget(b.roomId, b.userId)).role === 'admin') throw cannotBanAdmin(b.userId);
    // chat_admin may set only these columns: banned_by is preset to the caller (the agent) and
    // banned_at is the database's now(), so the audit trail cannot be forged.
    const object = {
      room_id: b.roomId,
      user_id: b.userId,
      reason: b.reason,
      expires_at: b.minutes === undefined ? null : new Date(this.now() + b.minutes * 60_000).toISOString(),
    };
    try {
      const data = await this.request<{ insert_chat_bans_one: BanRow | null }>('chat_admin', 'InsertBan', docs.INSERT_BAN, { object });
      if (!data.insert_chat_bans_one) throw new ChatError('backend_unavailable', 'Hasura stored no ban; try again.');
      return toBan(data.insert_chat_bans_one);
    } catch (error) {
      if (error instanceof HasuraGraphQLError) {
        const mapped = mapHasuraError(error, { roomId: b.roomId, userId: b.userId });
        // A foreign key names its column but not whether the room or the user is missing: ask.
        if (mapped && (mapped.code === 'room_not_found' || mapped.code === 'user_not_found')) await this.requireRoomAndUser(b.roomId, b.userId);
        throw mapped ?? new ChatError('backend_unavailable', 'Hasura could not store the ban; try again shortly.');
      }
      throw error;
    }
  }

  async listBans(q: { roomId: string; limit: number; after?: string }): Promise<BanPage> {
    this.requireRoomId(q.roomId);
    const now = new Date(this.now()).toISOString();
    // In force: no end, or an end still ahead (as DeleteActiveBans reads it; banned_at is the
    // database's clock, so comparing it with ours could hide a ban made a moment ago). Newest
    // first, keyset on (banned_at, id).
    const and: Record<string, unknown>[] = [{ _or: [{ expires_at: { _is_null: true } }, { expires_at: { _gt: now } }] }];
    if (q.after !== undefined) {
      const c = decodeListCursor('bans', q.roomId, q.after);
      and.push({ _or: [{ banned_at: { _lt: c.t } }, { banned_at: { _eq: c.t }, id: { _lt: c.i } }] });
    }
    const { rows, nextCursor } = await this.roomPage<BanRow>('ListBans', docs.LIST_BANS, 'bans', q, and, (last) => [last.banned_at, last.id]);
    return { bans: rows.map(toBan), nextCursor };
  }

  async unbanUser(b: { roomId: string; userId: string }): Promise<{ roomId: string; userId: string; wasBanned: boolean }> {
    this.requireRoomId(b.roomId);
    if (b.userId === (await this.agent()) && (await this.banTarget(b.roomId, b.userId)).banned) throw cannotUnbanSelf();
    const data = await this.call<{ delete_chat_bans: { affected_rows: number } | null }>(
      'chat_admin',
      'DeleteActiveBans',
      docs.DELETE_ACTIVE_BANS,
      { roomId: b.roomId, userId: b.userId, now: new Date(this.now()).toISOString() },
      b,
    );
    const wasBanned = (data.delete_chat_bans?.affected_rows ?? 0) > 0;
    if (!wasBanned) await this.requireRoomAndUser(b.roomId, b.userId);
    return { roomId: b.roomId, userId: b.userId, wasBanned };
  }

  async health(): Promise<{ ok: boolean }> {
    try {
      await this.request('chat_admin', 'Health', docs.HEALTH);
      return { ok: true };
    } catch {
      return { ok: false };
    }
  }

  async close(): Promise<void> {
    // Nothing to release: fetch keeps no connections we own and the token cache dies with the process.
  }

  /**
   * One page of a room's members or bans (chat_rooms_by_pk { <kind>(where, limit) }), as chat_admin.
   * One row more than the page tells whether another exists; its cursor is the page's last row.
   */
  private async roomPage<R>(
    operation: string,
    document: string,
    kind: ListKind,
    q: { roomId: string; limit: number },
    and: Record<string, unknown>[],
    positionOf: (last: R) => [string, string],
  ): Promise<{ rows: R[]; nextCursor: string | null }> {
    const data = await this.call<{ chat_rooms_by_pk: ({ id: string } & Record<ListKind, R[]>) | null }>(
      'chat_admin',
      operation,
      document,
      { roomId: q.roomId, where: { _and: and }, limit: q.limit + 1 },
      { roomId: q.roomId },
    );
    if (!data.chat_rooms_by_pk) throw this.roomNotFound(q.roomId);
    const found = data.chat_rooms_by_pk[kind];
    const rows = found.slice(0, q.limit);
    const last = rows[rows.length - 1];
    return { rows, nextCursor: found.length > q.limit && last ? encodeListCursor(kind, q.roomId, ...positionOf(last)) : null };
  }

  private async setMute(roomId: string, userId: string, isMuted: boolean, mutedUntil: string | null): Promise<Member> {
    this.requireRoomId(roomId);
    const data = await this.call<{ update_chat_members: { affected_rows: number; returning: MemberRow[] } | null }>(
      'chat_admin',
      'SetMute',
      docs.SET_MUTE,
      { roomId, userId, isMuted, mutedUntil },
      { roomId, userId },
    );
    const row = data.update_chat_members?.returning[0];
    if (row) return toMember(row, this.now());
    const { roomName } = await this.requireRoomAndUser(roomId, userId);
    throw new ChatError('not_member', `user ${userId} is not a member of room "${roomName}"; list members with chat_list_members.`);
  }

  /** Runs a document as `role` and maps Hasura's errors; an error Hasura hid is reported as the backend being unavailable. */
  private async call<T>(role: AgentRole, operationName: string, query: string, variables: Record<string, unknown> = {}, ctx: ErrorContext = {}): Promise<T> {
    try {
      return await this.request<T>(role, operationName, query, variables);
    } catch (error) {
      if (error instanceof HasuraGraphQLError) throw mapHasuraError(error, ctx) ?? new ChatError('backend_unavailable', 'Hasura could not complete the request; try again shortly.');
      throw error;
    }
  }

  /** One GraphQL request; Hasura's own errors pass through, while no answer and a failed agent sign-in become backend_unavailable. */
  private async request<T>(role: AgentRole, operationName: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await this.client.request<T>(role, operationName, query, variables);
    } catch (error) {
      if (error instanceof CognitoAuthError) {
        // The message names Cognito's error type (never the password or a token).
        throw new ChatError('backend_unavailable', `The agent account could not sign in to Cognito (${error.type}); check AGENT_USERNAME/AGENT_PASSWORD and the agent app client.`);
      }
      if (error instanceof HttpError) throw new ChatError('backend_unavailable', `${error.message}; try again shortly.`);
      throw error;
    }
  }

  private async agent(): Promise<string> {
    try {
      return (await this.tokens.identity()).userId;
    } catch {
      throw new ChatError('backend_unavailable', 'The agent account could not sign in to Cognito; check the agent credentials.');
    }
  }

  /** Which rule stopped the agent's message, when Hasura reported only "database query error". */
  private async diagnoseSend(roomId: string, agent: string): Promise<ChatError> {
    const now = this.now();
    const data = await this.call<{
      chat_rooms_by_pk: { name: string; is_active: boolean | null; members: Array<{ is_muted: boolean | null; muted_until: string | null }>; bans: Array<{ expires_at: string | null }> } | null;
    }>('chat_admin', 'SendDiagnosis', docs.SEND_DIAGNOSIS, { roomId, userId: agent, now: new Date(now).toISOString() });
    const room = data.chat_rooms_by_pk;
    if (!room) return this.roomNotFound(roomId);
    const until = (t: string | null) => (t ? ` until ${iso(t)}` : '');
    if (room.is_active === false) return new ChatError('room_inactive', `room "${room.name}" does not accept new messages. ${RULE_ADVICE_ROOM}`);
    const member = room.members[0];
    if (!member)
      return new ChatError('not_member', `the agent account is not a member of room "${room.name}". The agent account must be a member of the room to post; ask an administrator to add it.`);
    const ban = room.bans[0];
    if (ban) return new ChatError('banned', `the agent account is banned from room "${room.name}"${until(ban.expires_at)}. Lift the ban first.`);
    if (member.is_muted && (member.muted_until === null || Date.parse(member.muted_until) > now)) {
      return new ChatError('muted', `the agent account is muted in room "${room.name}"${until(member.muted_until)}. Unmute it or wait for the mute to end.`);
    }
    return new ChatError('backend_unavailable', 'Hasura could not store the message; try again shortly.');
  }

  private async requireRoom(roomId: string): Promise<void> {
    const data = await this.call<{ chat_rooms_by_pk: { id: string } | null }>('chat_admin', 'RoomAndUser', docs.ROOM_AND_USER, { roomId, userId: '' });
    if (!data.chat_rooms_by_pk) throw this.roomNotFound(roomId);
  }

  private async requireRoomAndUser(roomId: string, userId: string): Promise<{ roomName: string }> {
    const data = await this.call<{ chat_rooms_by_pk: { id: string; name: string } | null; users_by_pk: { id: string } | null }>('chat_admin', 'RoomAndUser', docs.ROOM_AND_USER, {
      roomId,
      userId,
    });
    if (!data.chat_rooms_by_pk) throw this.roomNotFound(roomId);
    if (!data.users_by_pk) throw new ChatError('user_not_found', `user not found: ${userId}. Use a user id from chat_list_members or a message's sender.`);
    return { roomName: data.chat_rooms_by_pk.name };
  }

  private requireRoomId(roomId: string): void {
    // Postgres would reject a non-UUID with a data exception; to the agent it is simply not a room.
    if (!UUID.test(roomId)) throw this.roomNotFound(roomId);
  }

  private roomNotFound(roomId: string): ChatError {
    return new ChatError('room_not_found', `room not found: ${roomId}. List rooms and their ids with chat_list_rooms.`);
  }

  private messageNotFound(messageId: string, roomId: string | undefined): ChatError {
    return new ChatError('message_not_found', `message not found: ${messageId}${roomId === undefined ? '' : ` in room ${roomId}`}. Take message ids from chat_get_messages.`);
  }
}

const RULE_ADVICE_ROOM = 'The room is inactive and accepts no new messages.';
