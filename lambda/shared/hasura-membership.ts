import type { Pool } from 'pg';
import type { ChatEntitlements } from '../../chat-domain/groups';
import { ALL_CHAT_ROOM_NAMES } from '../../chat-domain/rooms';

/** The users row a sign-in or the reconciler writes (chat-domain/profile.ts). */
export interface HasuraUser {
  /** users.id: the Cognito sub (x-hasura-user-id). */
  readonly sub: string;
  readonly username: string;
  readonly displayName: string | null;
}

export interface HasuraMembershipChange {
  /** Membership rows created. */
  readonly joined: number;
  /** Rows whose role changed (raised or lowered). */
  readonly roleChanged: number;
  /** Rows removed: rooms the user is no longer entitled to. */
  readonly left: number;
}

/**
 * Makes one user's Hasura Lite rows match their entitlements, in ONE statement (data-modifying
 * CTEs run atomically: all or nothing, one round trip; the sign-in trigger has 3 s in all).
 * Idempotent. The rules:
 * - users: username/display_name follow Cognito; a display name Cognito cannot derive is kept;
 *   nothing else on the row is touched. An unentitled user's row is left as it is (never created).
 * - chat_members, only in the chat rooms (rooms.ts): a row for each entitled room, role = the
 *   groups' role, raised or lowered (the groups own the role, as they own Matrix power levels;
 *   a role set by hand is put back); rows in rooms no longer entitled are deleted.
 * - bans: chat_bans is never written, so a ban outlives anything here. A room where the user
 *   has a ban in force gets no new row, and an existing row there is not touched (contract C1:
 *   a ban keeps the membership, and an unban restores it as it was). Mutes live on rows that stay.
 */
export async function applyHasuraEntitlements(pool: Pick<Pool, 'query'>, user: HasuraUser, entitlements: ChatEntitlements | null): Promise<HasuraMembershipChange> {
  const entitled = entitlements?.rooms ?? [];
  const result = await pool.query<{ joined: string; role_changed: string; left: string }>(
    `WITH upserted_user AS (
       INSERT INTO users (id, username, display_name)
       SELECT $1, $2, $3 WHERE $7::boolean
       ON CONFLICT (id) DO UPDATE
         SET username = EXCLUDED.username,
             display_name = COALESCE(EXCLUDED.display_name, users.display_name)
         WHERE users.username IS DISTINCT FROM EXCLUDED.username
            OR (EXCLUDED.display_name IS NOT NULL AND users.display_name IS DISTINCT FROM EXCLUDED.display_name)
     ),
     removed AS (
       DELETE FROM chat_members m
        USING chat_rooms r
        WHERE m.room_id = r.id AND m.user_id = $1
          AND r.name = ANY($5::text[]) AND NOT (r.name = ANY($6::text[]))
       RETURNING m.id
     ),
     memberships AS (
       INSERT INTO chat_members AS m (room_id, user_id, role)
       SELECT r.id, $1, $4
         FROM chat_rooms r
        WHERE r.name = ANY($6::text[])
          AND NOT EXISTS (
                SELECT 1 FROM chat_bans b
                 WHERE b.room_id = r.id AND b.user_id = $1
                   AND b.banned_at <= now() AND (b.expires_at IS NULL OR b.expires_at > now()))
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET role = EXCLUDED.role
         WHERE m.role IS DISTINCT FROM EXCLUDED.role
       RETURNING (xmax = 0) AS inserted
     )
     SELECT (SELECT count(*) FROM memberships WHERE inserted) AS joined,
            (SELECT count(*) FROM memberships WHERE NOT inserted) AS role_changed,
            (SELECT count(*) FROM removed) AS left`,
    [user.sub, user.username, user.displayName, entitlements?.memberRole ?? 'user', ALL_CHAT_ROOM_NAMES, entitled, entitlements !== null],
  );
  const row = result.rows[0];
  return { joined: Number(row.joined), roleChanged: Number(row.role_changed), left: Number(row.left) };
}

/** What the chat tables hold for every user, read in three queries (the full run diffs against it). */
export interface HasuraSnapshot {
  readonly users: ReadonlyMap<string, { readonly username: string | null; readonly displayName: string | null }>;
  /** user id → room name → role, chat rooms only. */
  readonly memberships: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** user id → rooms with a ban in force. */
  readonly bannedIn: ReadonlyMap<string, ReadonlySet<string>>;
}

/** `subs`: the users rows to read (the pool's users; the users table may be the Phenom app's and much larger). */
export async function readHasuraSnapshot(pool: Pick<Pool, 'query'>, subs: readonly string[]): Promise<HasuraSnapshot> {
  const [users, members, bans] = await Promise.all([
    pool.query<{ id: string; username: string | null; display_name: string | null }>('SELECT id, username, display_name FROM users WHERE id = ANY($1::text[])', [subs]),
    pool.query<{ user_id: string; name: string; role: string }>('SELECT m.user_id, r.name, m.role FROM chat_members m JOIN chat_rooms r ON r.id = m.room_id WHERE r.name = ANY($1::text[])', [
      ALL_CHAT_ROOM_NAMES,
    ]),
    pool.query<{ user_id: string; name: string }>(
      `SELECT b.user_id, r.name FROM chat_bans b JOIN chat_rooms r ON r.id = b.room_id
        WHERE b.banned_at <= now() AND (b.expires_at IS NULL OR b.expires_at > now()) AND r.name = ANY($1::text[])`,
      [ALL_CHAT_ROOM_NAMES],
    ),
  ]);
  const memberships = new Map<string, Map<string, string>>();
  for (const m of members.rows) memberships.set(m.user_id, (memberships.get(m.user_id) ?? new Map()).set(m.name, m.role));
  const bannedIn = new Map<string, Set<string>>();
  for (const b of bans.rows) bannedIn.set(b.user_id, (bannedIn.get(b.user_id) ?? new Set()).add(b.name));
  return { users: new Map(users.rows.map((u) => [u.id, { username: u.username, displayName: u.display_name }])), memberships, bannedIn };
}

/** Whether applyHasuraEntitlements would change anything for this user, judged from a snapshot. */
export function hasuraDiffers(snapshot: HasuraSnapshot, user: HasuraUser, entitlements: ChatEntitlements | null): boolean {
  const current = snapshot.memberships.get(user.sub) ?? new Map<string, string>();
  const banned = snapshot.bannedIn.get(user.sub) ?? new Set<string>();
  const entitled = new Set<string>(entitlements?.rooms ?? []);
  for (const room of current.keys()) if (!entitled.has(room)) return true;
  for (const room of entitled) {
    if (banned.has(room)) continue;
    if (current.get(room) !== entitlements!.memberRole) return true;
  }
  if (entitlements === null) return false;
  const row = snapshot.users.get(user.sub);
  return !row || row.username !== user.username || (user.displayName !== null && row.displayName !== user.displayName);
}

/**
 * Removes chat-room memberships of users the pool no longer has (deleted from Cognito), only rows
 * that existed before `listedAt` (when the listing began): a user who signed up during the run is
 * not in the listing, and their fresh rows must stay.
 */
export async function removeUnknownMembers(pool: Pick<Pool, 'query'>, knownSubs: readonly string[], listedAt: Date): Promise<number> {
  const result = await pool.query(
    `DELETE FROM chat_members m USING chat_rooms r
      WHERE m.room_id = r.id AND r.name = ANY($1::text[]) AND NOT (m.user_id = ANY($2::text[])) AND m.joined_at < $3`,
    [ALL_CHAT_ROOM_NAMES, knownSubs, listedAt],
  );
  return result.rowCount ?? 0;
}
