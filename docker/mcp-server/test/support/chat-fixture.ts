import type { Pool } from 'pg';

export const AGENT = 'mcp-agent';
export const ALICE = 'user-alice';
export const BOB = 'user-bob';
export const OUTSIDER = 'user-outsider';

export interface ChatFixture {
  rooms: { internal: string; partners: string; community: string };
}

/**
 * Users and memberships on a migrated database: the agent (admin) in every seeded room, Alice
 * and Bob in Community, an outsider in no room.
 */
export async function seedChat(pool: Pool): Promise<ChatFixture> {
  await pool.query(
    `INSERT INTO users (id, username, display_name) VALUES
       ($1, 'mcp-agent', 'MCP Agent'), ($2, 'alice', 'Alice'), ($3, 'bob', 'Bob'), ($4, 'outsider', NULL)`,
    [AGENT, ALICE, BOB, OUTSIDER],
  );
  const { rows } = await pool.query<{ id: string; name: string }>('SELECT id, name FROM chat_rooms');
  const id = (name: string) => {
    const room = rows.find((r) => r.name === name);
    if (!room) throw new Error(`seeded room ${name} missing`);
    return room.id;
  };
  const rooms = { internal: id('Phenom Internal'), partners: id('Phenom Partners'), community: id('Phenom Community') };
  await pool.query(`INSERT INTO chat_members (room_id, user_id, role) SELECT id, $1, 'admin' FROM chat_rooms`, [AGENT]);
  await pool.query(`INSERT INTO chat_members (room_id, user_id, role) VALUES ($1, $2, 'user'), ($1, $3, 'support')`, [rooms.community, ALICE, BOB]);
  return { rooms };
}

/** Every chat table's rows, ordered, as JSON: compare before/after to prove nothing changed. */
export async function snapshotChat(pool: Pool): Promise<string> {
  const tables = ['users', 'chat_rooms', 'chat_messages', 'chat_members', 'chat_bans', 'link_previews'];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    out[t] = (await pool.query(`SELECT to_jsonb(x) AS row FROM ${t} x ORDER BY to_jsonb(x)::text`)).rows.map((r) => r.row);
  }
  return JSON.stringify(out);
}
