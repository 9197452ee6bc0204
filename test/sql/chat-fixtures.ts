import type { Pool } from 'pg';

/** Ids of the seeded rooms by name. */
export async function seededRooms(pool: Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ id: string; name: string }>('SELECT id, name FROM chat_rooms');
  return Object.fromEntries(rows.map((r) => [r.name, r.id]));
}

export async function createUser(pool: Pool, id: string): Promise<string> {
  await pool.query('INSERT INTO users (id, username, display_name) VALUES ($1, $1, $1)', [id]);
  return id;
}

export async function createRoom(pool: Pool, name: string, isActive = true): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('INSERT INTO chat_rooms (name, is_active) VALUES ($1, $2) RETURNING id', [name, isActive]);
  return rows[0].id;
}

export async function addMember(pool: Pool, roomId: string, userId: string, fields: { role?: string; isMuted?: boolean; mutedUntil?: string | null } = {}): Promise<void> {
  await pool.query('INSERT INTO chat_members (room_id, user_id, role, is_muted, muted_until) VALUES ($1, $2, $3, $4, $5)', [
    roomId,
    userId,
    fields.role ?? 'user',
    fields.isMuted ?? false,
    fields.mutedUntil ?? null,
  ]);
}

export async function postMessage(pool: Pool, roomId: string, userId: string, content = 'hello'): Promise<string> {
  const { rows } = await pool.query<{ id: string }>('INSERT INTO chat_messages (room_id, user_id, content) VALUES ($1, $2, $3) RETURNING id', [roomId, userId, content]);
  return rows[0].id;
}

/** Every row of a table in a stable order, to prove a rejected statement changed nothing. */
export async function tableRows(pool: Pool, table: string): Promise<unknown[]> {
  const { rows } = await pool.query(`SELECT * FROM ${table} ORDER BY id`);
  return rows;
}

/** Runs `sql` expecting Postgres to reject it; returns the error's SQLSTATE, constraint and message. */
export async function rejection(pool: Pool, sql: string, params: unknown[] = []): Promise<{ code: string; constraint?: string; message: string }> {
  try {
    await pool.query(sql, params);
  } catch (err) {
    const e = err as { code: string; constraint?: string; message: string };
    return { code: e.code, constraint: e.constraint, message: e.message };
  }
  throw new Error(`expected Postgres to reject: ${sql}`);
}
