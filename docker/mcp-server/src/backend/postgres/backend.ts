import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { ChatError, type Ban, type ChatBackend, type BanPage, type Member, type MemberPage, type MemberRole, type Message, type MessagePage, type MessageType, type Room } from '../types';
import { originalForRetry } from '../client-message-id';
import { cannotBanAdmin, cannotBanSelf, cannotUnbanSelf } from '../moderation';
import { decodeCursor, decodeListCursor, encodeCursor, encodeListCursor, isUuid, type ListCursor, type ListKind } from './cursor';
import { toChatError } from './errors';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const MESSAGE_COLUMNS = `
  m.id, m.room_id, m.user_id, u.display_name, m.content, m.message_type, m.phenom_id, m.is_deleted, m.created_at,
  (extract(epoch from m.created_at) * 1000000)::bigint::text AS created_us,
  lp.url AS lp_url, lp.title AS lp_title, lp.description AS lp_description, lp.thumbnail_url AS lp_thumbnail_url, lp.media_type AS lp_media_type`;

// A preview belongs to phenom_link messages only, and only once the link-preview Lambda resolved it.
const MESSAGE_JOINS = `
  LEFT JOIN users u ON u.id = m.user_id
  LEFT JOIN link_previews lp ON m.message_type = 'phenom_link' AND lp.phenom_id = m.phenom_id`;

/** A page of a room's messages, newest first, beside the room row ($1 room, $2 include deleted, $3 limit). */
const messagePage = (cursorPredicate: string) => `SELECT r.id AS room_found, page.*
   FROM chat_rooms r
   LEFT JOIN LATERAL (
     SELECT ${MESSAGE_COLUMNS}
       FROM chat_messages m ${MESSAGE_JOINS}
      WHERE m.room_id = r.id ${cursorPredicate}
        AND ($2::boolean OR NOT m.is_deleted)
      ORDER BY m.created_at DESC, m.id DESC
      LIMIT $3
   ) page ON true
  WHERE r.id = $1`;
const MESSAGE_PAGE_FIRST = messagePage('');
/** $4 the cursor's created_at in microseconds since the epoch, $5 its message id. */
const MESSAGE_PAGE_AFTER_CURSOR = messagePage(`AND (m.created_at, m.id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid)`);

function toMessage(r: QueryResultRow): Message {
  return {
    id: r.id,
    roomId: r.room_id,
    sender: { id: r.user_id, displayName: r.display_name ?? null },
    content: r.content,
    messageType: r.message_type as MessageType,
    phenomId: r.phenom_id ?? null,
    isDeleted: r.is_deleted,
    createdAt: (r.created_at as Date).toISOString(),
    linkPreview: r.lp_url != null ? { phenomId: r.phenom_id, url: r.lp_url, title: r.lp_title, description: r.lp_description, thumbnailUrl: r.lp_thumbnail_url, mediaType: r.lp_media_type } : null,
  };
}

const MEMBER_COLUMNS = `
  cm.user_id, u.display_name, cm.role, cm.joined_at, cm.muted_until,
  (cm.is_muted AND (cm.muted_until IS NULL OR cm.muted_until > now())) AS is_muted`;

function toMember(r: QueryResultRow): Member {
  return {
    userId: r.user_id,
    displayName: r.display_name ?? null,
    role: r.role as MemberRole,
    isMuted: r.is_muted,
    mutedUntil: r.is_muted ? iso(r.muted_until) : null,
    joinedAt: (r.joined_at as Date).toISOString(),
  };
}

function toBan(r: QueryResultRow): Ban {
  return {
    id: r.id,
    roomId: r.room_id,
    userId: r.user_id,
    bannedBy: r.banned_by,
    reason: r.reason ?? null,
    bannedAt: (r.banned_at as Date).toISOString(),
    expiresAt: iso(r.expires_at),
  };
}

/**
 * A page from a room row LEFT JOIN LATERAL (its items, LIMIT limit + 1): an empty room gives one
 * row whose `key` column is null. The extra row, when there, says that another page exists, and
 * the page's last row is where it starts.
 */
function keysetPage(rows: QueryResultRow[], key: string, limit: number, cursorOf: (last: QueryResultRow) => string): { page: QueryResultRow[]; nextCursor: string | null } {
  const found = rows.filter((r) => r[key] !== null);
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: found.length > limit && last ? cursorOf(last) : null };
}

/** A member or ban page's request, checked: limit 1..500 (the tools' maximum), and the cursor decoded. */
function listCursor(kind: ListKind, roomId: string, limit: number, after: string | undefined): ListCursor | undefined {
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ChatError('invalid_input', 'limit must be a whole number from 1 to 500.');
  return after === undefined ? undefined : decodeListCursor(kind, after, roomId);
}

const roomNotFound = (roomId: string) => new ChatError('room_not_found', `Room not found: no room has id "${roomId}". Call chat_list_rooms for the room ids.`);

/**
 * BACKEND_TYPE=postgres: SQL on the chat schema (sql/). The database's own rules (the chat_messages
 * trigger, constraints) are the authority; this class maps their errors to tool errors and adds
 * the "which room/user/message" checks that make an error actionable. Every write is one statement,
 * so a failed call leaves nothing half-done.
 */
export class PostgresBackend implements ChatBackend {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly pool: Pool,
    /** users.id of the agent account: the sender of chat_send_message, deleted_by, banned_by. */
    private readonly agentUserId: string,
    /**
     * Where health() asks: a pool of its own, so a pool busy with tool calls is not reported as
     * an unreachable database (the health check would wait for a free client and time out).
     */
    private readonly healthPool: Pool = pool,
  ) {}

  /**
   * `name` makes it a prepared statement: each connection parses (and, once generic, plans) it
   * once instead of on every call. Only for statements of one fixed shape whose generic plan is as
   * good as a custom one (no optional predicates an index range depends on).
   */
  private async q<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[] = [], client?: PoolClient, name?: string): Promise<R[]> {
    try {
      return (await (client ?? this.pool).query<R>(name ? { name, text, values } : { text, values })).rows;
    } catch (err) {
      throw toChatError(err);
    }
  }

  private checkRoomId(roomId: string): void {
    if (!isUuid(roomId)) throw roomNotFound(roomId);
  }

  /** Explains why a (room, user) row was not found: unknown room, unknown user, or not a member. */
  private async missingMember(roomId: string, userId: string): Promise<ChatError> {
    const [row] = await this.q<{ room: string | null; room_name: string | null; user_exists: boolean }>(
      `SELECT (SELECT id::text FROM chat_rooms WHERE id = $1) AS room, (SELECT name FROM chat_rooms WHERE id = $1) AS room_name,
              EXISTS (SELECT 1 FROM users WHERE id = $2) AS user_exists`,
      [roomId, userId],
    );
    if (!row.room) return roomNotFound(roomId);
    if (!row.user_exists) return new ChatError('user_not_found', `User not found: no user has id "${userId}". Call chat_list_members for the user ids.`);
    return new ChatError('not_member', `User ${userId} is not a member of room "${row.room_name}". Call chat_list_members for the members.`);
  }

  async listRooms(): Promise<Room[]> {
    const rows = await this.q(
      `SELECT r.id, r.name, r.description, r.is_active, count(cm.id)::int AS member_count
         FROM chat_rooms r LEFT JOIN chat_members cm ON cm.room_id = r.id
        GROUP BY r.id ORDER BY r.name`,
    );
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description ?? null, isActive: r.is_active, memberCount: r.member_count }));
  }

  async getMessages({ roomId, limit, before, includeDeleted }: { roomId: string; limit: number; before?: string; includeDeleted: boolean }): Promise<MessagePage> {
    this.checkRoomId(roomId);
    const cursor = before === undefined ? undefined : decodeCursor(before, roomId);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ChatError('invalid_input', 'limit must be a whole number from 1 to 100.');
    // One round trip: the room row (to tell "unknown room" from "no messages") with its page
    // laterally joined. The keyset predicate and ORDER BY match idx_chat_messages_room_created
    // (room_id, created_at DESC, id DESC), so any page is one index range scan. The first page and
    // the later ones are two prepared statements, so neither generic plan carries an optional
    // predicate (which would turn the cursor's index range into a filter). Both list their columns, so a
    // migration that adds one cannot change a prepared statement's result type under a running task.
    const rows = cursor
      ? await this.q(MESSAGE_PAGE_AFTER_CURSOR, [roomId, includeDeleted, limit + 1, cursor.createdAtMicros, cursor.id], undefined, 'chat_get_messages_before')
      : await this.q(MESSAGE_PAGE_FIRST, [roomId, includeDeleted, limit + 1], undefined, 'chat_get_messages_first');
    if (rows.length === 0) throw roomNotFound(roomId);
    const { page, nextCursor } = keysetPage(rows, 'id', limit, (last) => encodeCursor({ roomId, createdAtMicros: last.created_us, id: last.id }));
    return { messages: page.map(toMessage), nextCursor };
  }

  async sendMessage(m: { roomId: string; content: string; messageType: MessageType; phenomId?: string; clientMessageId?: string }): Promise<Message> {
    const { roomId, content, messageType, phenomId, clientMessageId } = m;
    this.checkRoomId(roomId);
    let rows: QueryResultRow[];
    try {
      // A key already used by the agent in this room inserts nothing (sql/009); NULL never conflicts.
      rows = await this.q(
        `WITH m AS (
           INSERT INTO chat_messages (room_id, user_id, content, message_type, phenom_id, client_message_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT ON CONSTRAINT chat_messages_room_id_user_id_client_message_id_key DO NOTHING
           RETURNING *
         )
         SELECT ${MESSAGE_COLUMNS} FROM m ${MESSAGE_JOINS}`,
        [roomId, this.agentUserId, content, messageType, phenomId ?? null, clientMessageId ?? null],
        undefined,
        'chat_send_message',
      );
    } catch (err) {
      // The rules trigger runs before the conflict check: a rule that changed since the first send
      // (a mute, a ban) must not hide the message that send stored.
      const original = clientMessageId && err instanceof ChatError ? await this.messageByClientId(roomId, clientMessageId) : undefined;
      if (original) return originalForRetry(original, m, clientMessageId!);
      throw err;
    }
    if (rows[0]) return toMessage(rows[0]);
    // Nothing inserted, so the key conflicted with a committed row; this new statement sees it.
    const original = clientMessageId ? await this.messageByClientId(roomId, clientMessageId) : undefined;
    if (!original) throw new ChatError('backend_unavailable', 'The message was neither stored nor found. Try again with the same client_message_id.');
    return originalForRetry(original, m, clientMessageId!);
  }

  private async messageByClientId(roomId: string, clientMessageId: string): Promise<Message | undefined> {
    const [row] = await this.q(`SELECT ${MESSAGE_COLUMNS} FROM chat_messages m ${MESSAGE_JOINS} WHERE m.room_id = $1 AND m.user_id = $2 AND m.client_message_id = $3`, [
      roomId,
      this.agentUserId,
      clientMessageId,
    ]);
    return row && toMessage(row);
  }

  async deleteMessage({ roomId, messageId }: { messageId: string; roomId?: string }): Promise<{ messageId: string; roomId: string; alreadyDeleted: boolean }> {
    if (roomId !== undefined) this.checkRoomId(roomId);
    const notFound = () =>
      new ChatError(
        'message_not_found',
        roomId === undefined
          ? `Message not found: no message has id "${messageId}". Use an id from chat_get_messages.`
          : `Message not found: room ${roomId} has no message with id "${messageId}". Use an id from chat_get_messages for this room, or leave room_id out.`,
      );
    if (!isUuid(messageId)) throw notFound();
    // One statement: the update (if not yet deleted) and the row's prior state, so a concurrent
    // delete of the same message is still reported as already_deleted, never as an error.
    const rows = await this.q<{ room_found: boolean; msg_room: string | null; updated: string | null }>(
      `WITH target AS (
         SELECT id, room_id FROM chat_messages WHERE id = $2 AND ($1::uuid IS NULL OR room_id = $1)
       ), upd AS (
         UPDATE chat_messages m SET is_deleted = true, deleted_by = $3
           FROM target t WHERE m.id = t.id AND NOT m.is_deleted
         RETURNING m.id
       )
       SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM chat_rooms WHERE id = $1)) AS room_found,
              (SELECT room_id::text FROM target) AS msg_room,
              (SELECT id::text FROM upd) AS updated`,
      [roomId ?? null, messageId, this.agentUserId],
    );
    const r = rows[0];
    if (!r.room_found) throw roomNotFound(roomId!);
    if (!r.msg_room) throw notFound();
    return { messageId, roomId: r.msg_room, alreadyDeleted: r.updated === null };
  }

  async listMembers({ roomId, role, limit, after }: { roomId: string; role?: MemberRole; limit: number; after?: string }): Promise<MemberPage> {
    this.checkRoomId(roomId);
    const cursor = listCursor('members', roomId, limit, after);
    // Keyset on (joined_at, user_id), the order of idx_chat_members_room (sql/010): any page is one
    // index range scan, and one row past the page says whether another exists.
    const rows = await this.q(
      `SELECT r.id AS room_found, mem.*
         FROM chat_rooms r
         LEFT JOIN LATERAL (
           SELECT ${MEMBER_COLUMNS}, (extract(epoch from cm.joined_at) * 1000000)::bigint::text AS joined_us
             FROM chat_members cm LEFT JOIN users u ON u.id = cm.user_id
            WHERE cm.room_id = r.id AND ($2::text IS NULL OR cm.role = $2)
              AND ($3::bigint IS NULL OR (cm.joined_at, cm.user_id) > (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::text))
            ORDER BY cm.joined_at, cm.user_id
            LIMIT $5
         ) mem ON true
        WHERE r.id = $1`,
      [roomId, role ?? null, cursor?.micros ?? null, cursor?.id ?? null, limit + 1],
    );
    if (rows.length === 0) throw roomNotFound(roomId);
    const { page, nextCursor } = keysetPage(rows, 'user_id', limit, (last) => encodeListCursor('members', { roomId, micros: last.joined_us, id: last.user_id }));
    return { members: page.map(toMember), nextCursor };
  }

  private async updateMember(roomId: string, userId: string, set: string, values: unknown[]): Promise<Member> {
    this.checkRoomId(roomId);
    const rows = await this.q(
      `WITH cm AS (
         UPDATE chat_members SET ${set} WHERE room_id = $1 AND user_id = $2 RETURNING *
       )
       SELECT ${MEMBER_COLUMNS} FROM cm LEFT JOIN users u ON u.id = cm.user_id`,
      [roomId, userId, ...values],
    );
    if (rows.length === 0) throw await this.missingMember(roomId, userId);
    return toMember(rows[0]);
  }

  muteUser({ roomId, userId, minutes }: { roomId: string; userId: string; minutes?: number }): Promise<Member> {
    return this.updateMember(roomId, userId, `is_muted = true, muted_until = CASE WHEN $3::int IS NULL THEN NULL ELSE now() + $3::int * interval '1 minute' END`, [minutes ?? null]);
  }

  unmuteUser({ roomId, userId }: { roomId: string; userId: string }): Promise<Member> {
    return this.updateMember(roomId, userId, 'is_muted = false, muted_until = NULL', []);
  }

  async banUser({ roomId, userId, reason, minutes }: { roomId: string; userId: string; reason: string; minutes?: number }): Promise<Ban> {
    this.checkRoomId(roomId);
    if (userId === this.agentUserId) throw cannotBanSelf();
    // One statement: no row when the user is an admin of the room (see moderation.ts), so a role
    // change racing the ban cannot slip between a check and the insert.
    const rows = await this.q(
      `INSERT INTO chat_bans (room_id, user_id, banned_by, reason, expires_at)
       SELECT $1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + $5::int * interval '1 minute' END
        WHERE NOT EXISTS (SELECT 1 FROM chat_members WHERE room_id = $1 AND user_id = $2 AND role = 'admin')
       RETURNING *`,
      [roomId, userId, this.agentUserId, reason, minutes ?? null],
    );
    if (rows.length === 0) throw cannotBanAdmin(userId);
    return toBan(rows[0]);
  }

  async listBans({ roomId, limit, after }: { roomId: string; limit: number; after?: string }): Promise<BanPage> {
    this.checkRoomId(roomId);
    const cursor = listCursor('bans', roomId, limit, after);
    // In force as the chat rules trigger (008) reads it; newest first, keyset on (banned_at, id).
    const rows = await this.q(
      `SELECT r.id AS room_found, ban.*
         FROM chat_rooms r
         LEFT JOIN LATERAL (
           SELECT cb.*, (extract(epoch from cb.banned_at) * 1000000)::bigint::text AS banned_us
             FROM chat_bans cb
            WHERE cb.room_id = r.id AND cb.banned_at <= now() AND (cb.expires_at IS NULL OR cb.expires_at > now())
              AND ($2::bigint IS NULL OR (cb.banned_at, cb.id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))
            ORDER BY cb.banned_at DESC, cb.id DESC
            LIMIT $4
         ) ban ON true
        WHERE r.id = $1`,
      [roomId, cursor?.micros ?? null, cursor?.id ?? null, limit + 1],
    );
    if (rows.length === 0) throw roomNotFound(roomId);
    const { page, nextCursor } = keysetPage(rows, 'id', limit, (last) => encodeListCursor('bans', { roomId, micros: last.banned_us, id: last.id }));
    return { bans: page.map(toBan), nextCursor };
  }

  async unbanUser({ roomId, userId }: { roomId: string; userId: string }): Promise<{ roomId: string; userId: string; wasBanned: boolean }> {
    this.checkRoomId(roomId);
    if (userId === this.agentUserId) {
      const [own] = await this.q(`SELECT 1 FROM chat_bans WHERE room_id = $1 AND user_id = $2 AND banned_at <= now() AND (expires_at IS NULL OR expires_at > now())`, [roomId, userId]);
      if (own) throw cannotUnbanSelf();
    }
    // Contract C1: unban = delete the ban(s) in force; expired bans stay as history.
    const rows = await this.q<{ room_found: string | null; user_exists: boolean; deleted: number }>(
      `WITH del AS (
         DELETE FROM chat_bans WHERE room_id = $1 AND user_id = $2 AND banned_at <= now() AND (expires_at IS NULL OR expires_at > now())
         RETURNING id
       )
       SELECT (SELECT id::text FROM chat_rooms WHERE id = $1) AS room_found,
              EXISTS (SELECT 1 FROM users WHERE id = $2) AS user_exists,
              (SELECT count(*)::int FROM del) AS deleted`,
      [roomId, userId],
    );
    const r = rows[0];
    if (!r.room_found) throw roomNotFound(roomId);
    if (!r.user_exists) throw new ChatError('user_not_found', `User not found: no user has id "${userId}". Call chat_list_members for the user ids.`);
    return { roomId, userId, wasBanned: r.deleted > 0 };
  }

  async health(): Promise<{ ok: boolean }> {
    try {
      await this.healthPool.query('SELECT 1');
      return { ok: true };
    } catch {
      return { ok: false };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
    if (this.healthPool !== this.pool) await this.healthPool.end();
  }
}
