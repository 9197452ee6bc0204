import type { Pool } from 'pg';
import { CHAT_ROOM_DEFINITIONS } from '../../chat-domain/rooms';
import { AB_WINDOW_SECONDS } from '../../chat-domain/ab-metrics';

/** What hasuraLiteUsage reads: the collector's chat-database role may SELECT these and nothing else. */
export const HASURA_LITE_USAGE_TABLES = ['chat_messages', 'chat_rooms'] as const;
/** What synapseUsage reads from Synapse's database: its reader role may SELECT these and nothing else. */
export const SYNAPSE_USAGE_TABLES = ['events', 'room_aliases'] as const;

/** Anything that runs a parameterised query: a pg Pool or a checked-out client. */
export type Queryable = Pick<Pool, 'query'>;

/**
 * One collector run's time range. `start`/`end` is the 5-minute window whose messages are counted;
 * `dayStart` is 00:00 UTC of the window's day, the start of the "so far today" counts.
 */
export interface CollectorWindow {
  readonly start: Date;
  readonly end: Date;
  readonly dayStart: Date;
}

/**
 * The last complete 5-minute window before `now`. A run that starts late or is retried still counts the
 * same window, so it publishes the same values at the same timestamp.
 */
export function windowBefore(now: Date): CollectorWindow {
  const step = AB_WINDOW_SECONDS * 1000;
  const end = new Date(Math.floor(now.getTime() / step) * step);
  const start = new Date(end.getTime() - step);
  const dayStart = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  return { start, end, dayStart };
}

export interface UsageSnapshot {
  /** Messages created in the window, by room alias (every room of rooms.ts, 0 when quiet). */
  readonly messagesByRoom: Record<string, number>;
  /** Messages in the window in any room, including rooms rooms.ts does not define. */
  readonly messages: number;
  /** Distinct senders from dayStart to the window's end. */
  readonly sendersToday: number;
  /** Rooms with a message from dayStart to the window's end. */
  readonly activeRoomsToday: number;
}

const ROOM_ALIASES: readonly string[] = CHAT_ROOM_DEFINITIONS.map((r) => r.alias);
const aliasOfName = new Map<string, string>(CHAT_ROOM_DEFINITIONS.map((r) => [r.name, r.alias]));

function byRoom(rows: { rooms: string[] | null; messages: string | number }[], aliasOf: (room: string) => string | undefined): Pick<UsageSnapshot, 'messages' | 'messagesByRoom'> {
  const messagesByRoom = Object.fromEntries(ROOM_ALIASES.map((a) => [a, 0]));
  let messages = 0;
  for (const row of rows) {
    const n = Number(row.messages);
    messages += n;
    const alias = (row.rooms ?? []).map(aliasOf).find((a) => a !== undefined);
    if (alias !== undefined) messagesByRoom[alias] += n;
  }
  return { messages, messagesByRoom };
}

/**
 * Hasura Lite's usage, from chat_messages. Each room is read through its (room_id, created_at, id)
 * index, one range per room (a LATERAL join over chat_rooms), so the cost follows the window's
 * messages, never the table's history. Deleted messages were still sent, so they count.
 */
export async function hasuraLiteUsage(db: Queryable, w: CollectorWindow): Promise<UsageSnapshot> {
  const windowRows = await db.query<{ rooms: string[]; messages: string }>(
    `SELECT ARRAY[r.name] AS rooms, m.messages
       FROM chat_rooms r
       CROSS JOIN LATERAL (SELECT count(*) AS messages FROM chat_messages cm
                            WHERE cm.room_id = r.id AND cm.created_at >= $1 AND cm.created_at < $2) m`,
    [w.start, w.end],
  );
  const today = await db.query<{ senders: string; rooms: string }>(
    `SELECT count(DISTINCT m.user_id) AS senders, count(DISTINCT m.room_id) AS rooms
       FROM chat_rooms r
       CROSS JOIN LATERAL (SELECT cm.user_id, cm.room_id FROM chat_messages cm
                            WHERE cm.room_id = r.id AND cm.created_at >= $1 AND cm.created_at < $2) m`,
    [w.dayStart, w.end],
  );
  return { ...byRoom(windowRows.rows, (name) => aliasOfName.get(name)), sendersToday: Number(today.rows[0].senders), activeRoomsToday: Number(today.rows[0].rooms) };
}

/** `LIKE` pattern for "a user id on this homeserver", with LIKE's own wildcards in the name escaped. */
export function localSenderPattern(matrixServerName: string): string {
  return `%:${matrixServerName.replace(/[\\%_]/g, (c) => `\\${c}`)}`;
}

/**
 * Matrix's usage, from Synapse's own database: `events` of type m.room.message sent by local users
 * (federated senders are not this deployment's users). Synapse indexes events by
 * (origin_server_ts, stream_ordering) (`events_ts`, synapse/storage/schema), so a window is one index
 * range. Rooms are named by their aliases in `room_aliases` (a room may have several; ours is `#<alias>:<server>`).
 */
export async function synapseUsage(db: Queryable, w: CollectorWindow, matrixServerName: string): Promise<UsageSnapshot> {
  const local = localSenderPattern(matrixServerName);
  const windowRows = await db.query<{ rooms: string[] | null; messages: string }>(
    `SELECT (SELECT array_agg(a.room_alias) FROM room_aliases a WHERE a.room_id = e.room_id) AS rooms, count(*) AS messages
       FROM events e
      WHERE e.origin_server_ts >= $1 AND e.origin_server_ts < $2
        AND e.type = 'm.room.message' AND e.sender LIKE $3
      GROUP BY e.room_id`,
    [w.start.getTime(), w.end.getTime(), local],
  );
  const today = await db.query<{ senders: string; rooms: string }>(
    `SELECT count(DISTINCT e.sender) AS senders, count(DISTINCT e.room_id) AS rooms
       FROM events e
      WHERE e.origin_server_ts >= $1 AND e.origin_server_ts < $2
        AND e.type = 'm.room.message' AND e.sender LIKE $3`,
    [w.dayStart.getTime(), w.end.getTime(), local],
  );
  const suffix = `:${matrixServerName}`;
  const aliasOf = (roomAlias: string) => {
    const localpart = roomAlias.startsWith('#') && roomAlias.endsWith(suffix) ? roomAlias.slice(1, -suffix.length) : undefined;
    return localpart !== undefined && ROOM_ALIASES.includes(localpart) ? localpart : undefined;
  };
  return { ...byRoom(windowRows.rows, aliasOf), sendersToday: Number(today.rows[0].senders), activeRoomsToday: Number(today.rows[0].rooms) };
}
