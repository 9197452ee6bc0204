import { createHash, randomUUID } from 'node:crypto';
import { Ban, BackendLogger, BanPage, ChatBackend, ChatError, Member, MemberPage, MemberRole, Message, MessagePage, MessageType, Room } from '../types';
import { originalForRetry } from '../client-message-id';
import { requireWithinContentLimit } from '../content';
import { cannotBanAdmin, cannotBanSelf } from '../moderation';
import { liftBan, liftMute, putPowerLevel, readRoomState } from '../../../../../chat-clients/matrix-moderation-expiry';
import { HttpError } from '../../../../../chat-clients/http';
import { MatrixClient, MatrixHttpError } from '../../../../../chat-clients/matrix-client';
import { BAN_STATE, BanRecord, MatrixEvent, MUTE_STATE, MuteRecord, recordKey, roleForLevel, RoomState } from '../../../../../chat-clients/matrix-room-state';

/** Matrix has no phenom_link type: a phenom link is an m.text message carrying this field. */
export const PHENOM_ID_FIELD = 'com.thephenom.phenom_id';
/** Aliases rarely move; re-resolving every 5 minutes picks up a re-pointed alias without a restart. */
const ALIAS_CACHE_MS = 5 * 60_000;
/** /messages calls per page at most: a page of live messages between many redacted ones stops here. */
const MAX_FETCHES_PER_PAGE = 5;
const MESSAGE_FILTER = JSON.stringify({ types: ['m.room.message'], lazy_load_members: true });
const USER_ID = /^@[^:\s]+:\S+$/;

export interface SynapseBackendOptions {
  readonly client: MatrixClient;
  readonly roomAliases: string[];
  readonly log: BackendLogger;
  /** Milliseconds since the epoch; injectable so tests can pin expiries. */
  readonly now?: () => number;
}

interface MessagesResponse {
  chunk: MatrixEvent[];
  end?: string;
  state?: MatrixEvent[];
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A transaction id derived from a key, so a retried send or redaction is the same Matrix transaction. */
const txnId = (...parts: string[]) => `mcp-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`;

/**
 * Message ids carry their room, "<room id>/<event id>", so chat_delete_message needs only the id:
 * Matrix fetches and redacts an event only within its room, and an event id (room v3 and later)
 * does not say which room that is. Room ids have no "/" (opaque ids and server names exclude it)
 * and event ids start with "$", so the first "/" splits them; a bare event id is still accepted
 * together with room_id.
 */
export const messageId = (roomId: string, eventId: string): string => `${roomId}/${eventId}`;

export function parseMessageId(id: string): { roomId?: string; eventId: string } | undefined {
  if (id.startsWith('$')) return { eventId: id };
  const slash = id.indexOf('/');
  if (slash > 1 && id.startsWith('!') && id[slash + 1] === '$') return { roomId: id.slice(0, slash), eventId: id.slice(slash + 1) };
  return undefined;
}

/**
 * A member- or ban-list cursor: the page's last member (user id), or last ban (its member event's
 * time and id); `k` tells the lists apart, since each names a place in one order.
 */
type ListKind = 'members' | 'bans';
const LIST_TOOLS: Record<ListKind, string> = { members: 'chat_list_members', bans: 'chat_list_bans' };

function encodeListCursor(kind: ListKind, roomId: string, position: { t?: number; i: string }): string {
  return Buffer.from(JSON.stringify({ k: kind, r: roomId, ...position })).toString('base64url');
}

function decodeListCursor(kind: ListKind, roomId: string, cursor: string): { t?: number; i: string } {
  let parsed: { k?: unknown; r?: unknown; t?: unknown; i?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  const valid = parsed !== undefined && parsed.k === kind && typeof parsed.i === 'string' && (kind === 'members' ? USER_ID.test(parsed.i) : parsed.i.startsWith('$') && Number.isSafeInteger(parsed.t));
  if (!valid) throw new ChatError('invalid_cursor', `The cursor is not one ${LIST_TOOLS[kind]} returned; pass next_cursor from the previous page unchanged, or omit it to start again.`);
  if (parsed!.r !== roomId) throw new ChatError('invalid_cursor', 'The cursor belongs to another room; use it only with the room it came from.');
  return { t: parsed!.t as number | undefined, i: parsed!.i as string };
}

function encodeCursor(roomId: string, token: string): string {
  return Buffer.from(JSON.stringify({ r: roomId, t: token })).toString('base64url');
}

function decodeCursor(roomId: string, cursor: string): string {
  let parsed: { r?: unknown; t?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { r?: unknown; t?: unknown };
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed.t !== 'string' || !parsed.t) {
    throw new ChatError('invalid_cursor', 'The cursor is not one chat_get_messages returned; pass next_cursor from the previous page unchanged, or omit it to start from the newest message.');
  }
  if (parsed.r !== roomId) throw new ChatError('invalid_cursor', 'The cursor belongs to another room; use it only with the room it came from.');
  return parsed.t;
}

/**
 * Contract C6 over the Matrix client-server API as the Synapse admin bot. Rooms are the ones the
 * configured aliases name (#internal, #partners, #community); ids are Matrix ids (!room, @user,
 * $event). Mute is a power level below the room's send level; timed mutes and bans are recorded
 * in room state (com.thephenom.chat.mute / .ban) and lifted, once due, by the scheduled job that
 * runs expiry.ts liftExpired (the membership reconciler Lambda, every minute).
 */
export class SynapseBackend implements ChatBackend {
  readonly kind = 'synapse' as const;
  private readonly client: MatrixClient;
  private readonly now: () => number;
  private rooms?: { at: number; byId: Map<string, string>; byAlias: Map<string, string> };
  private botUserId?: string;
  private readonly stateInFlight = new Map<string, Promise<RoomState>>();

  constructor(private readonly options: SynapseBackendOptions) {
    this.client = options.client;
    this.now = options.now ?? Date.now;
  }

  async listRooms(): Promise<Room[]> {
    const rooms = await this.knownRooms();
    return Promise.all(
      [...rooms.byId.entries()].map(async ([roomId, alias]) => {
        const state = await this.sharedState(roomId);
        return {
          id: roomId,
          name: state.content<{ name?: string }>('m.room.name')?.name ?? alias,
          description: state.content<{ topic?: string }>('m.room.topic')?.topic ?? null,
          isActive: state.isActive,
          memberCount: state.members().length,
        };
      }),
    ).then((list) => list.sort((a, b) => a.name.localeCompare(b.name)));
  }

  async getMessages(q: { roomId: string; limit: number; before?: string; includeDeleted: boolean }): Promise<MessagePage> {
    const roomId = await this.resolveRoom(q.roomId);
    let from = q.before === undefined ? undefined : decodeCursor(roomId, q.before);
    const names = new Map<string, string | null>();
    const messages: Message[] = [];
    let end: string | undefined;
    for (let fetches = 0; fetches < MAX_FETCHES_PER_PAGE && messages.length < q.limit; fetches++) {
      // Ask for exactly what is missing, so every event of a chunk is consumed and `end` is a
      // precise continuation point (a Matrix token cannot point inside a chunk).
      let page: MessagesResponse;
      try {
        page = await this.client.request<MessagesResponse>('GET', ['rooms', roomId, 'messages'], {
          query: { dir: 'b', limit: String(q.limit - messages.length), filter: MESSAGE_FILTER, from },
        });
      } catch (error) {
        if (error instanceof MatrixHttpError && error.status === 400 && from !== undefined) {
          throw new ChatError('invalid_cursor', 'The homeserver no longer accepts this cursor; start again without one.');
        }
        throw this.mapError(error, { roomId });
      }
      for (const member of page.state ?? []) {
        if (member.type === 'm.room.member' && member.state_key) names.set(member.state_key, typeof member.content.displayname === 'string' ? member.content.displayname : null);
      }
      for (const event of page.chunk) {
        const message = this.toMessage(event, roomId, names);
        if (message.isDeleted && !q.includeDeleted) continue;
        messages.push(message);
      }
      end = page.end;
      if (!end || page.chunk.length === 0) break;
      from = end;
    }
    return { messages, nextCursor: end ? encodeCursor(roomId, end) : null };
  }

  async sendMessage(m: { roomId: string; content: string; messageType: MessageType; phenomId?: string; clientMessageId?: string }): Promise<Message> {
    const roomId = await this.resolveRoom(m.roomId);
    requireWithinContentLimit(m.content);
    if (m.messageType === 'phenom_link' && !m.phenomId) throw new ChatError('invalid_input', 'A phenom_link message needs a phenom_id.');
    const bot = await this.bot();
    const state = await this.state(roomId);
    const name = this.roomName(state, roomId);
    // Matrix would accept a message into a replaced (tombstoned) room; the chat rules do not.
    if (!state.isActive) throw new ChatError('room_inactive', `room "${name}" does not accept new messages (it was replaced). The room is inactive.`);
    const content: Record<string, unknown> = { msgtype: 'm.text', body: m.content };
    if (m.messageType === 'phenom_link') content[PHENOM_ID_FIELD] = m.phenomId;
    // client_message_id becomes the Matrix transaction id. Synapse answers a repeated one with the
    // first send's event id and stores nothing (rest/client/transactions.py: per path, user and
    // device; handlers/message.py: per room, user, device and txn id, kept 24 hours), so the
    // retry window here is a day, and the bot token's device must stay the same (every replica
    // shares it).
    const txn = m.clientMessageId ? txnId('send', roomId, m.clientMessageId) : `mcp-${randomUUID()}`;
    let eventId: string;
    try {
      eventId = (await this.client.request<{ event_id: string }>('PUT', ['rooms', roomId, 'send', 'm.room.message', txn], { body: content })).event_id;
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 403) throw this.whyCannotSend(state, bot, name);
      throw this.mapError(error, { roomId });
    }
    const event = await this.event(roomId, eventId);
    const displayName = state.content<{ displayname?: string }>('m.room.member', bot)?.displayname ?? null;
    const message = this.toMessage(event ?? { event_id: eventId, type: 'm.room.message', sender: bot, origin_server_ts: this.now(), content }, roomId, new Map([[bot, displayName]]));
    return m.clientMessageId ? originalForRetry(message, m, m.clientMessageId) : message;
  }

  async deleteMessage(d: { messageId: string; roomId?: string }): Promise<{ messageId: string; roomId: string; alreadyDeleted: boolean }> {
    const notFound = () => new ChatError('message_not_found', `message not found: ${d.messageId}${d.roomId === undefined ? '' : ` in room ${d.roomId}`}. Take message ids from chat_get_messages.`);
    const parsed = parseMessageId(d.messageId);
    if (!parsed) throw notFound();
    const given = d.roomId === undefined ? undefined : await this.resolveRoom(d.roomId);
    if (!parsed.roomId && !given) {
      throw new ChatError('invalid_input', `message id ${d.messageId} is a bare Matrix event id, which does not say its room; pass room_id too, or use the id chat_get_messages returns.`);
    }
    // A message id naming a room other than the given one (or than any chat room) is no message here.
    if (parsed.roomId && given && parsed.roomId !== given) throw notFound();
    const roomId = given ?? parsed.roomId!;
    if (!given && !(await this.knownRooms()).byId.has(roomId)) throw notFound();
    const event = await this.event(roomId, parsed.eventId);
    if (!event || event.type !== 'm.room.message') throw notFound();
    const id = messageId(roomId, parsed.eventId);
    if (event.unsigned?.redacted_because) return { messageId: id, roomId, alreadyDeleted: true };
    try {
      // The transaction id is derived from the event, so a retried delete is the same redaction.
      await this.client.request('PUT', ['rooms', roomId, 'redact', parsed.eventId, txnId('redact', roomId, parsed.eventId)], { body: { reason: 'Deleted by a moderator (MCP)' } });
    } catch (error) {
      throw this.mapError(error, { roomId });
    }
    return { messageId: id, roomId, alreadyDeleted: false };
  }

  async listMembers(q: { roomId: string; role?: MemberRole; limit: number; after?: string }): Promise<MemberPage> {
    const roomId = await this.resolveRoom(q.roomId);
    const after = q.after === undefined ? undefined : decodeListCursor('members', roomId, q.after).i;
    // Matrix has no paged member list: the room state holds them all. Concurrent calls for one room
    // share one fetch (sharedState), so a burst costs one copy of the state, not one per call.
    const state = await this.sharedState(roomId);
    // Ordered by user id, which never changes: a member event's timestamp (joined_at) moves
    // whenever the member changes their display name, and would move them between pages.
    const ids = state
      .members()
      .map((event) => event.state_key!)
      .filter((userId) => after === undefined || userId > after)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const members: Member[] = [];
    let more = false;
    for (const userId of ids) {
      const member = this.toMember(state, userId);
      if (q.role && member.role !== q.role) continue;
      if (members.length === q.limit) {
        more = true;
        break;
      }
      members.push(member);
    }
    const last = members[members.length - 1];
    return { members, nextCursor: more && last ? encodeListCursor('members', roomId, { i: last.userId }) : null };
  }

  async muteUser(m: { roomId: string; userId: string; minutes?: number }): Promise<Member> {
    const roomId = await this.resolveRoom(m.roomId);
    const state = await this.requireJoined(roomId, m.userId);
    const bot = await this.bot();
    const current = state.levelOf(m.userId);
    if (m.userId !== bot && current >= state.levelOf(bot)) {
      throw new ChatError('forbidden', `${m.userId} has a power level (${current}) at or above the bot's; an admin of equal rank must change it.`);
    }
    const sendLevel = state.sendLevel;
    const existing = state.record<MuteRecord>(MUTE_STATE, m.userId);
    const alreadyMuted = current < sendLevel;
    const mutedLevel = alreadyMuted ? current : sendLevel - 1;
    const record: MuteRecord = {
      muted_until: m.minutes === undefined ? null : iso(this.now() + m.minutes * 60_000),
      // Keep the level from before the first mute, so unmuting restores it.
      previous_power_level: alreadyMuted ? (existing?.previous_power_level ?? sendLevel) : current,
      muted_power_level: mutedLevel,
    };
    // The record first: if the power-level change then fails, the record alone changes nothing.
    await this.putState(roomId, MUTE_STATE, recordKey(m.userId), record);
    if (!alreadyMuted) await this.setLevel(roomId, state, m.userId, mutedLevel);
    return this.toMember(await this.state(roomId), m.userId);
  }

  async unmuteUser(m: { roomId: string; userId: string }): Promise<Member> {
    const roomId = await this.resolveRoom(m.roomId);
    const state = await this.requireJoined(roomId, m.userId);
    await this.liftMute(roomId, state, m.userId);
    return this.toMember(await this.state(roomId), m.userId);
  }

  async banUser(b: { roomId: string; userId: string; reason: string; minutes?: number }): Promise<Ban> {
    const roomId = await this.resolveRoom(b.roomId);
    await this.requireUser(b.userId);
    const state = await this.state(roomId);
    if (state.membership(b.userId) === 'ban') {
      throw new ChatError('invalid_input', `user ${b.userId} is already banned in this room; unban first to change the ban's terms.`);
    }
    const bot = await this.bot();
    // Matrix refuses both anyway (a ban needs a level above the target's); say why in our terms.
    if (b.userId === bot) throw cannotBanSelf();
    if (roleForLevel(state.levelOf(b.userId)) === 'admin') throw cannotBanAdmin(b.userId);
    try {
      await this.client.request('POST', ['rooms', roomId, 'ban'], { body: { user_id: b.userId, reason: b.reason } });
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 403) {
        throw new ChatError('forbidden', `The bot may not ban ${b.userId} in this room (${error.serverMessage}).`);
      }
      throw this.mapError(error, { roomId });
    }
    const banEvent = (await this.state(roomId)).event('m.room.member', b.userId);
    const expiresAt = b.minutes === undefined ? null : iso(this.now() + b.minutes * 60_000);
    try {
      // A permanent ban clears any old record, so a stale expiry can never lift it.
      await this.putState(roomId, BAN_STATE, recordKey(b.userId), expiresAt ? ({ expires_at: expiresAt, ban_event_id: banEvent?.event_id } satisfies BanRecord) : {});
    } catch {
      throw new ChatError('backend_unavailable', `${b.userId} is banned, but the ban's end could not be recorded, so it stays until chat_unban_user lifts it.`);
    }
    return {
      id: banEvent?.event_id ?? '',
      roomId,
      userId: b.userId,
      bannedBy: bot,
      reason: b.reason,
      bannedAt: iso(banEvent?.origin_server_ts ?? this.now()),
      expiresAt,
    };
  }

  async listBans(q: { roomId: string; limit: number; after?: string }): Promise<BanPage> {
    const roomId = await this.resolveRoom(q.roomId);
    const after = q.after === undefined ? undefined : decodeListCursor('bans', roomId, q.after);
    const state = await this.sharedState(roomId);
    // A ban is a member event with membership "ban"; its end, if any, is in our record, which
    // counts only while it names this ban event. Newest first, keyset on (time, event id).
    const newestFirst = (a: MatrixEvent, b: MatrixEvent) => b.origin_server_ts - a.origin_server_ts || (a.event_id < b.event_id ? 1 : a.event_id > b.event_id ? -1 : 0);
    const events = state
      .members('ban')
      .filter((e) => !after || e.origin_server_ts < after.t! || (e.origin_server_ts === after.t && e.event_id < after.i))
      .sort(newestFirst);
    const page = events.slice(0, q.limit);
    const bans = page.map((event): Ban => {
      const record = state.record<BanRecord>(BAN_STATE, event.state_key!);
      return {
        id: event.event_id,
        roomId,
        userId: event.state_key!,
        bannedBy: event.sender,
        reason: typeof event.content.reason === 'string' ? event.content.reason : null,
        bannedAt: iso(event.origin_server_ts),
        expiresAt: record?.ban_event_id === event.event_id ? (record.expires_at ?? null) : null,
      };
    });
    const last = page[page.length - 1];
    return { bans, nextCursor: events.length > q.limit && last ? encodeListCursor('bans', roomId, { t: last.origin_server_ts, i: last.event_id }) : null };
  }

  async unbanUser(b: { roomId: string; userId: string }): Promise<{ roomId: string; userId: string; wasBanned: boolean }> {
    const roomId = await this.resolveRoom(b.roomId);
    const state = await this.state(roomId);
    if (state.membership(b.userId) !== 'ban') {
      await this.requireUser(b.userId);
      return { roomId, userId: b.userId, wasBanned: false };
    }
    await this.lift(roomId, state, b.userId);
    return { roomId, userId: b.userId, wasBanned: true };
  }

  async health(): Promise<{ ok: boolean }> {
    try {
      await this.client.request('GET', ['account', 'whoami']);
      return { ok: true };
    } catch {
      return { ok: false };
    }
  }

  async close(): Promise<void> {
    // Nothing to release: fetch owns its connections, and timed mutes and bans are lifted by the
    // scheduled job (expiry.ts liftExpired), not by a timer in each replica.
  }

  // ----- helpers -----

  private async liftMute(roomId: string, state: RoomState, userId: string): Promise<void> {
    try {
      await liftMute(this.client, roomId, state, userId);
    } catch (error) {
      throw this.levelError(error, roomId, userId);
    }
  }

  private async lift(roomId: string, state: RoomState, userId: string): Promise<void> {
    try {
      await liftBan(this.client, roomId, state, userId);
    } catch (error) {
      throw this.mapError(error, { roomId });
    }
  }

  private async setLevel(roomId: string, state: RoomState, userId: string, level: number): Promise<void> {
    try {
      await putPowerLevel(this.client, roomId, state, userId, level);
    } catch (error) {
      throw this.levelError(error, roomId, userId);
    }
  }

  private levelError(error: unknown, roomId: string, userId: string): Error {
    if (error instanceof MatrixHttpError && error.status === 403) return new ChatError('forbidden', `The bot may not change ${userId}'s power level (${error.serverMessage}).`);
    return this.mapError(error, { roomId });
  }

  private async putState(roomId: string, type: string, stateKey: string, content: object): Promise<void> {
    try {
      await this.client.request('PUT', ['rooms', roomId, 'state', type, stateKey], { body: content });
    } catch (error) {
      throw this.mapError(error, { roomId });
    }
  }

  /**
   * The room state for a read that may share it: while one fetch for the room is in flight, every
   * other caller waits for that one. Writers use state(), which always asks anew.
   */
  private sharedState(roomId: string): Promise<RoomState> {
    let pending = this.stateInFlight.get(roomId);
    if (!pending) {
      pending = this.state(roomId).finally(() => this.stateInFlight.delete(roomId));
      this.stateInFlight.set(roomId, pending);
    }
    return pending;
  }

  private async state(roomId: string): Promise<RoomState> {
    try {
      return await readRoomState(this.client, roomId);
    } catch (error) {
      throw this.mapError(error, { roomId });
    }
  }

  private async event(roomId: string, eventId: string): Promise<MatrixEvent | undefined> {
    try {
      return await this.client.request<MatrixEvent>('GET', ['rooms', roomId, 'event', eventId]);
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 404) return undefined;
      throw this.mapError(error, { roomId });
    }
  }

  private async bot(): Promise<string> {
    if (!this.botUserId) {
      try {
        this.botUserId = (await this.client.request<{ user_id: string }>('GET', ['account', 'whoami'])).user_id;
      } catch (error) {
        throw this.mapError(error, {});
      }
    }
    return this.botUserId;
  }

  /** The chat rooms: the configured aliases resolved to room ids (cached ALIAS_CACHE_MS). */
  private async knownRooms(): Promise<{ byId: Map<string, string>; byAlias: Map<string, string> }> {
    if (this.rooms && this.now() - this.rooms.at < ALIAS_CACHE_MS) return this.rooms;
    const byId = new Map<string, string>();
    const byAlias = new Map<string, string>();
    for (const alias of this.options.roomAliases) {
      try {
        const { room_id } = await this.client.request<{ room_id: string }>('GET', ['directory', 'room', alias]);
        byId.set(room_id, alias);
        byAlias.set(alias, room_id);
      } catch (error) {
        if (error instanceof MatrixHttpError && error.status === 404) {
          this.options.log.warn('synapse: a configured room alias does not exist; has the bootstrap run?', { alias });
          continue;
        }
        throw this.mapError(error, {});
      }
    }
    this.rooms = { at: this.now(), byId, byAlias };
    return this.rooms;
  }

  /** A room id (or one of the chat aliases) → the room id, if it is one of the chat rooms. */
  private async resolveRoom(roomIdOrAlias: string): Promise<string> {
    const rooms = await this.knownRooms();
    const roomId = roomIdOrAlias.startsWith('#') ? rooms.byAlias.get(roomIdOrAlias) : rooms.byId.has(roomIdOrAlias) ? roomIdOrAlias : undefined;
    if (!roomId) throw new ChatError('room_not_found', `room not found: ${roomIdOrAlias}. List rooms and their ids with chat_list_rooms.`);
    return roomId;
  }

  private async requireUser(userId: string): Promise<void> {
    if (!USER_ID.test(userId)) throw new ChatError('user_not_found', `user not found: ${userId}. Matrix user ids look like @name:server; take them from chat_list_members.`);
    const notFound = () => new ChatError('user_not_found', `user not found: ${userId}. Take user ids from chat_list_members.`);
    try {
      await this.client.request('GET', ['profile', userId]);
      return;
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 404) throw notFound();
      // A homeserver with limit_profile_requests_to_users_who_share_rooms answers 403 for a stranger;
      // the bot is a server admin, so Synapse's admin API can still tell whether the account exists.
      if (!(error instanceof MatrixHttpError && error.status === 403)) throw this.mapError(error, {});
    }
    try {
      const user = await this.client.request<{ deactivated?: boolean }>('GET', ['v2', 'users', userId], { api: 'synapse-admin' });
      if (user.deactivated) throw notFound();
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 404) throw notFound();
      throw this.mapError(error, {});
    }
  }

  private async requireJoined(roomId: string, userId: string): Promise<RoomState> {
    const state = await this.state(roomId);
    if (state.membership(userId) === 'join') return state;
    await this.requireUser(userId);
    throw new ChatError('not_member', `user ${userId} is not a member of room "${this.roomName(state, roomId)}"; list members with chat_list_members.`);
  }

  private roomName(state: RoomState, roomId: string): string {
    return state.content<{ name?: string }>('m.room.name')?.name ?? this.rooms?.byId.get(roomId) ?? roomId;
  }

  /** Which chat rule a 403 on send stands for, from the bot's membership and level. */
  private whyCannotSend(state: RoomState, bot: string, name: string): ChatError {
    const membership = state.membership(bot);
    if (membership === 'ban') return new ChatError('banned', `the bot account is banned from room "${name}". Lift the ban first.`);
    if (membership !== 'join') return new ChatError('not_member', `the bot account is not a member of room "${name}". The bot must be joined to the room to post.`);
    if (state.levelOf(bot) < state.sendLevel) return new ChatError('muted', `the bot account is muted in room "${name}" (its power level is below the room's send level). Unmute it first.`);
    return new ChatError('forbidden', `the homeserver refused the message in room "${name}".`);
  }

  private toMember(state: RoomState, userId: string): Member {
    const level = state.levelOf(userId);
    const isMuted = level < state.sendLevel;
    const member = state.event('m.room.member', userId);
    const mute = state.record<MuteRecord>(MUTE_STATE, userId);
    return {
      userId,
      displayName: typeof member?.content.displayname === 'string' ? member.content.displayname : null,
      role: roleForLevel(level),
      isMuted,
      mutedUntil: isMuted ? (mute?.muted_until ?? null) : null,
      // The current member event: for a joined member, when they (last) joined.
      joinedAt: iso(member?.origin_server_ts ?? 0),
    };
  }

  private toMessage(event: MatrixEvent, roomId: string, names: Map<string, string | null>): Message {
    const phenomId = typeof event.content[PHENOM_ID_FIELD] === 'string' ? (event.content[PHENOM_ID_FIELD] as string) : null;
    return {
      id: messageId(roomId, event.event_id),
      roomId,
      sender: { id: event.sender, displayName: names.get(event.sender) ?? null },
      content: typeof event.content.body === 'string' ? event.content.body : '',
      messageType: phenomId ? 'phenom_link' : 'text',
      phenomId,
      isDeleted: Boolean(event.unsigned?.redacted_because),
      createdAt: iso(event.origin_server_ts),
      // Previews live in the Hasura Lite tables; the Matrix side has none to join.
      linkPreview: null,
    };
  }

  private mapError(error: unknown, ctx: { roomId?: string }): Error {
    if (error instanceof ChatError) return error;
    if (error instanceof MatrixHttpError && error.errcode === undefined) return new ChatError('backend_unavailable', `Synapse answered HTTP ${error.status}; try again shortly.`);
    if (error instanceof MatrixHttpError) {
      if (error.errcode === 'M_UNKNOWN_TOKEN' || error.errcode === 'M_MISSING_TOKEN') {
        return new ChatError('backend_unavailable', 'Synapse rejected the bot token; the Synapse bootstrap must store a valid one in Secrets Manager.');
      }
      if (error.errcode === 'M_LIMIT_EXCEEDED') return new ChatError('backend_unavailable', `Synapse is rate-limiting the bot; retry in ${Math.ceil((error.retryAfterMs ?? 1000) / 1000)} s.`);
      if (error.errcode === 'M_TOO_LARGE') return new ChatError('content_too_long', 'The homeserver refused the message as too large; shorten it.');
      if (error.status === 403) return new ChatError('forbidden', `Synapse refused: ${error.serverMessage}`);
      if (error.status === 404 && ctx.roomId) return new ChatError('room_not_found', `room not found: ${ctx.roomId}. List rooms with chat_list_rooms.`);
      if (error.status === 400) return new ChatError('invalid_input', `Synapse rejected the request: ${error.serverMessage}`);
      return new ChatError('backend_unavailable', `Synapse answered ${error.status} ${error.errcode}; try again shortly.`);
    }
    if (error instanceof HttpError) return new ChatError('backend_unavailable', `${unavailable(error)}; try again shortly.`);
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Why the homeserver gave no usable answer, in the words a tool result shows. */
function unavailable(error: HttpError): string {
  if (error.failure === 'timeout') return `Synapse did not answer within ${(error.timeoutMs ?? 0) / 1000} s`;
  if (error.failure === 'invalid-response') return 'Synapse answered with a body that is not JSON';
  return 'Synapse is unreachable';
}
