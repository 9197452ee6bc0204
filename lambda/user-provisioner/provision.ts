import type { Pool } from 'pg';
import { CHAT_ROLES, ChatEntitlements } from '../../lib/chat-shared/groups';
import type { SignedInUser } from './event';

export interface ProvisionResult {
  /** Membership rows created by this login. */
  readonly joined: number;
  /** Membership rows whose role was raised by this login. */
  readonly promoted: number;
}

/**
 * Upserts the user and their entitled memberships in one statement (atomic, one
 * round trip). Idempotent, and deliberately one-way:
 * - the user row's username/display_name follow Cognito; nothing else on it is touched;
 * - a membership is added for each entitled room, and its role is only ever raised
 *   (admin > support > user): a role given by a moderator is never lowered here;
 * - no membership is added to a room where the user has an active ban, and chat_bans
 *   is never written: a login cannot lift a ban, and a banned member stays banned
 *   (bans keep the membership row, contract C1).
 */
export async function provisionUser(pool: Pick<Pool, 'query'>, user: SignedInUser, entitlements: ChatEntitlements): Promise<ProvisionResult> {
  const result = await pool.query<{ joined: string; promoted: string }>(
    `WITH upserted_user AS (
       INSERT INTO users (id, username, display_name)
       VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE
         SET username = EXCLUDED.username,
             display_name = COALESCE(EXCLUDED.display_name, users.display_name)
         WHERE users.username IS DISTINCT FROM EXCLUDED.username
            OR (EXCLUDED.display_name IS NOT NULL AND users.display_name IS DISTINCT FROM EXCLUDED.display_name)
     ),
     memberships AS (
       INSERT INTO chat_members AS m (room_id, user_id, role)
       SELECT r.id, $1, $4
         FROM chat_rooms r
        WHERE r.name = ANY($5::text[])
          AND NOT EXISTS (
                SELECT 1 FROM chat_bans b
                 WHERE b.room_id = r.id AND b.user_id = $1
                   AND b.banned_at <= now() AND (b.expires_at IS NULL OR b.expires_at > now()))
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET role = EXCLUDED.role
         WHERE array_position($6::text[], EXCLUDED.role) > array_position($6::text[], m.role)
       RETURNING (xmax = 0) AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted) AS joined,
            count(*) FILTER (WHERE NOT inserted) AS promoted
       FROM memberships`,
    [user.sub, user.username, user.displayName, entitlements.memberRole, entitlements.rooms, CHAT_ROLES],
  );
  const row = result.rows[0];
  return { joined: Number(row.joined), promoted: Number(row.promoted) };
}
