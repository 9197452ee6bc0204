import { ChatError } from '../types';

/** A position in a room's history: the last message of a page (created_at in µs since the epoch, id). */
export interface Cursor {
  roomId: string;
  createdAtMicros: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MICROS = /^-?\d{1,18}$/;
/**
 * 9999-12-31T23:59:59.999999Z in µs. A cursor this server issued is always inside it; one beyond it
 * was forged, and PostgreSQL would fail on it with "timestamp out of range" (or overflow the bigint).
 */
const MAX_ABS_MICROS = 253_402_300_799_999_999n;

/**
 * Cursors are opaque to callers (base64url JSON). Microseconds, not a JS Date, so the keyset
 * comparison is exact: Postgres timestamps carry µs and a Date would round them to ms, which
 * would skip or repeat messages sharing a millisecond.
 */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ r: c.roomId, t: c.createdAtMicros, i: c.id })).toString('base64url');
}

export function decodeCursor(value: string, roomId: string): Cursor {
  const invalid = () =>
    new ChatError('invalid_cursor', 'The before cursor is not one this server issued for this room. Use the next_cursor of the previous page, or leave before out to start from the newest message.');
  const { r, t, i } = decodeKeyset(value, roomId, invalid);
  if (typeof i !== 'string' || !UUID.test(i)) throw invalid();
  return { roomId: r, createdAtMicros: t, id: i };
}

/**
 * A position in a room's member list (joined_at, user_id) or ban list (banned_at, id): the page's
 * last row, its time in µs. `k` tells the lists apart: each cursor names a place in one order.
 */
export interface ListCursor {
  roomId: string;
  micros: string;
  id: string;
}
export type ListKind = 'members' | 'bans';
const LIST_TOOLS: Record<ListKind, string> = { members: 'chat_list_members', bans: 'chat_list_bans' };

export function encodeListCursor(kind: ListKind, c: ListCursor): string {
  return Buffer.from(JSON.stringify({ k: kind, r: c.roomId, t: c.micros, i: c.id })).toString('base64url');
}

export function decodeListCursor(kind: ListKind, value: string, roomId: string): ListCursor {
  const invalid = () =>
    new ChatError('invalid_cursor', `The after cursor is not one ${LIST_TOOLS[kind]} issued for this room. Use the next_cursor of the previous page, or leave after out to start again.`);
  const { k, r, t, i } = decodeKeyset(value, roomId, invalid);
  // Ban ids are uuids; user ids are any text.
  if (k !== kind || typeof i !== 'string' || i.length === 0 || (kind === 'bans' && !UUID.test(i))) throw invalid();
  return { roomId: r, micros: t, id: i };
}

/** The fields every keyset cursor has: the room it pages (must be `roomId`) and a µs timestamp in range. */
function decodeKeyset(value: string, roomId: string, invalid: () => ChatError): { r: string; t: string; [key: string]: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid();
  const fields = parsed as Record<string, unknown>;
  const { r, t } = fields;
  if (typeof r !== 'string' || typeof t !== 'string' || !MICROS.test(t)) throw invalid();
  const micros = BigInt(t);
  if (micros > MAX_ABS_MICROS || -micros > MAX_ABS_MICROS) throw invalid();
  if (r !== roomId) throw invalid();
  return { ...fields, r, t };
}

export const isUuid = (s: string): boolean => UUID.test(s);
