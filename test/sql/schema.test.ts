import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMigrations } from '../../lambda/migrations/runner';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { createMigratedDatabase } from '../support/postgres/migrated';

/**
 * The migrated schema read back from the catalogs (information_schema, pg_indexes,
 * pg_constraint, pg_trigger), compared with seed 000 "Database Schema" plus the
 * later migrations' additions. Never by re-reading the SQL.
 */
type Column = [name: string, type: string, nullable: 'YES' | 'NO', defaultValue: string | null];

const UUID_PK: Column = ['id', 'uuid', 'NO', 'gen_random_uuid()'];
const TSTZ = 'timestamp with time zone';

const EXPECTED_COLUMNS: Record<string, Column[]> = {
  users: [
    ['id', 'text', 'NO', null],
    ['username', 'text', 'YES', null],
    ['display_name', 'text', 'YES', null],
    ['avatar_url', 'text', 'YES', null],
  ],
  chat_rooms: [UUID_PK, ['name', 'text', 'NO', null], ['description', 'text', 'YES', null], ['created_at', TSTZ, 'NO', 'now()'], ['is_active', 'boolean', 'NO', 'true']],
  chat_messages: [
    UUID_PK,
    ['room_id', 'uuid', 'NO', null],
    ['user_id', 'text', 'NO', null],
    ['content', 'text', 'NO', null],
    ['message_type', 'text', 'NO', "'text'::text"],
    ['phenom_id', 'text', 'YES', null],
    ['is_deleted', 'boolean', 'NO', 'false'],
    ['deleted_by', 'text', 'YES', null],
    ['created_at', TSTZ, 'NO', 'now()'],
    ['updated_at', TSTZ, 'NO', 'now()'],
    ['client_message_id', 'text', 'YES', null], // 009
  ],
  chat_members: [
    UUID_PK,
    ['room_id', 'uuid', 'NO', null],
    ['user_id', 'text', 'NO', null],
    ['role', 'text', 'NO', "'user'::text"],
    ['is_muted', 'boolean', 'NO', 'false'],
    ['muted_until', TSTZ, 'YES', null],
    ['joined_at', TSTZ, 'NO', 'now()'],
  ],
  chat_bans: [
    UUID_PK,
    ['room_id', 'uuid', 'NO', null],
    ['user_id', 'text', 'NO', null],
    ['banned_by', 'text', 'NO', null],
    ['reason', 'text', 'YES', null],
    ['banned_at', TSTZ, 'NO', 'now()'],
    ['expires_at', TSTZ, 'YES', null],
  ],
  link_previews: [
    UUID_PK,
    ['url', 'text', 'NO', null],
    ['phenom_id', 'text', 'YES', null],
    ['title', 'text', 'YES', null],
    ['description', 'text', 'YES', null],
    ['thumbnail_url', 'text', 'YES', null],
    ['media_type', 'text', 'YES', null],
    ['resolved_at', TSTZ, 'NO', 'now()'],
    ['expires_at', TSTZ, 'YES', null],
  ],
};

let db: TestDatabase;
beforeAll(async () => {
  db = await createMigratedDatabase('schema');
});
afterAll(() => db.drop());

async function rowsOf<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.pool.query<T>(sql, params)).rows;
}

describe('the migrated chat schema', () => {
  it.each(Object.entries(EXPECTED_COLUMNS))('%s has exactly the seed columns, types, nullability and defaults', async (table, expected) => {
    const columns = await rowsOf<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable, c.column_default])).toEqual(expected);
  });

  it('has a primary key on id in every table', async () => {
    const pks = await rowsOf<{ table_name: string; column_name: string }>(
      `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
       WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' ORDER BY 1`,
    );
    expect(pks.filter((p) => p.table_name in EXPECTED_COLUMNS)).toEqual(
      Object.keys(EXPECTED_COLUMNS)
        .sort()
        .map((t) => ({ table_name: t, column_name: 'id' })),
    );
  });

  it('has the seed indexes, with the message history index extended for keyset paging', async () => {
    const indexes = await rowsOf<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const def = Object.fromEntries(indexes.map((i) => [i.indexname, i.indexdef.replace(/^.* USING /, '')]));
    expect(def).toMatchObject({
      idx_chat_messages_room_created: 'btree (room_id, created_at DESC, id DESC)',
      idx_chat_messages_user: 'btree (user_id)',
      idx_chat_members_room: 'btree (room_id, joined_at, user_id)', // 010: keyset paging of members
      idx_chat_bans_room_user: 'btree (room_id, user_id)',
      idx_link_previews_phenom: 'btree (phenom_id)',
      chat_members_room_id_user_id_key: 'btree (room_id, user_id)',
      link_previews_phenom_id_key: 'btree (phenom_id)',
      chat_rooms_name_key: 'btree (name)',
      chat_bans_one_active_per_member: expect.stringMatching(/^gist \(room_id, user_id, tstzrange\(banned_at, expires_at, '\[\)'::text\)\)$/),
    });
  });

  it('has the named CHECK, UNIQUE and EXCLUDE constraints', async () => {
    const constraints = await rowsOf<{ conname: string; table: string; def: string }>(
      `SELECT conname, conrelid::regclass::text AS table, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND contype IN ('c', 'u', 'x') ORDER BY conname`,
    );
    expect(constraints).toEqual([
      { conname: 'chat_bans_expires_after_banned_at', table: 'chat_bans', def: 'CHECK (((expires_at IS NULL) OR (expires_at > banned_at)))' },
      { conname: 'chat_bans_one_active_per_member', table: 'chat_bans', def: expect.stringContaining('EXCLUDE USING gist (room_id WITH =, user_id WITH =, tstzrange(banned_at, expires_at') },
      { conname: 'chat_members_role_check', table: 'chat_members', def: "CHECK ((role = ANY (ARRAY['user'::text, 'support'::text, 'admin'::text])))" },
      { conname: 'chat_members_room_id_user_id_key', table: 'chat_members', def: 'UNIQUE (room_id, user_id)' },
      {
        conname: 'chat_messages_client_message_id_check',
        table: 'chat_messages',
        def: 'CHECK (((client_message_id IS NULL) OR ((char_length(client_message_id) >= 1) AND (char_length(client_message_id) <= 128))))',
      },
      { conname: 'chat_messages_content_check', table: 'chat_messages', def: 'CHECK ((char_length(content) <= 4000))' },
      { conname: 'chat_messages_message_type_check', table: 'chat_messages', def: "CHECK ((message_type = ANY (ARRAY['text'::text, 'phenom_link'::text])))" },
      {
        conname: 'chat_messages_phenom_link_requires_phenom_id',
        table: 'chat_messages',
        def: "CHECK (((message_type <> 'phenom_link'::text) OR ((phenom_id IS NOT NULL) AND (phenom_id <> ''::text))))",
      },
      { conname: 'chat_messages_room_id_user_id_client_message_id_key', table: 'chat_messages', def: 'UNIQUE (room_id, user_id, client_message_id)' },
      { conname: 'chat_rooms_name_key', table: 'chat_rooms', def: 'UNIQUE (name)' },
      { conname: 'link_previews_phenom_id_key', table: 'link_previews', def: 'UNIQUE (phenom_id)' },
    ]);
  });

  it('gives every foreign key a deliberate ON DELETE rule (no cascade reaches chat_messages)', async () => {
    const fks = await rowsOf<{ conname: string; def: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND contype = 'f' ORDER BY conname`,
    );
    expect(Object.fromEntries(fks.map((f) => [f.conname, f.def]))).toEqual({
      chat_bans_banned_by_fkey: 'FOREIGN KEY (banned_by) REFERENCES users(id) ON DELETE RESTRICT',
      chat_bans_room_id_fkey: 'FOREIGN KEY (room_id) REFERENCES chat_rooms(id) ON DELETE CASCADE',
      chat_bans_user_id_fkey: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE',
      chat_members_room_id_fkey: 'FOREIGN KEY (room_id) REFERENCES chat_rooms(id) ON DELETE CASCADE',
      chat_members_user_id_fkey: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE',
      chat_messages_deleted_by_fkey: 'FOREIGN KEY (deleted_by) REFERENCES users(id) ON DELETE SET NULL',
      chat_messages_room_id_fkey: 'FOREIGN KEY (room_id) REFERENCES chat_rooms(id) ON DELETE RESTRICT',
      chat_messages_user_id_fkey: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE RESTRICT',
    });
  });

  it('has the updated_at and chat-rules triggers on chat_messages', async () => {
    const triggers = await rowsOf<{ tgname: string; def: string }>(
      `SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = 'chat_messages'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'chat_messages_enforce_rules', def: expect.stringContaining('BEFORE INSERT ON public.chat_messages FOR EACH ROW EXECUTE FUNCTION chat_messages_enforce_rules()') },
      { tgname: 'chat_messages_set_updated_at', def: expect.stringContaining('BEFORE UPDATE ON public.chat_messages FOR EACH ROW EXECUTE FUNCTION chat_set_updated_at()') },
    ]);
  });

  it('seeds exactly the three rooms, active and described, once', async () => {
    const rooms = await rowsOf<{ name: string; description: string | null; is_active: boolean }>('SELECT name, description, is_active FROM chat_rooms ORDER BY name');
    expect(rooms.map((r) => r.name)).toEqual(['Phenom Community', 'Phenom Internal', 'Phenom Partners']);
    for (const room of rooms) {
      expect(room.is_active).toBe(true);
      expect(room.description).toEqual(expect.stringMatching(/\w{3,}/));
    }
    // Running the schema file itself again (a database adopted from the seed's SQL) adds none.
    await db.pool.query(readFileSync(join(__dirname, '../../sql/001-chat-schema.sql'), 'utf8'));
    const client = await db.pool.connect();
    try {
      expect((await runMigrations(client)).applied).toEqual([]);
    } finally {
      client.release();
    }
    expect((await rowsOf<{ n: string }>('SELECT count(*) AS n FROM chat_rooms'))[0].n).toBe('3');
  });
});

describe('an existing users table', () => {
  it('is kept as it is: its extra columns and rows survive the migration', async () => {
    const existing = await createTestDatabase('users');
    try {
      await existing.pool.query(`CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT, display_name TEXT, avatar_url TEXT, email TEXT NOT NULL, created_at TIMESTAMPTZ DEFAULT now())`);
      await existing.pool.query(`INSERT INTO users (id, username, email) VALUES ('phenom-user-1', 'ana', 'ana@example.com')`);
      const client = await existing.pool.connect();
      try {
        await runMigrations(client);
      } finally {
        client.release();
      }
      const columns = await existing.pool.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position`);
      expect(columns.rows.map((c) => c.column_name)).toEqual(['id', 'username', 'display_name', 'avatar_url', 'email', 'created_at']);
      const users = await existing.pool.query('SELECT id, email FROM users');
      expect(users.rows).toEqual([{ id: 'phenom-user-1', email: 'ana@example.com' }]);
    } finally {
      await existing.drop();
    }
  });
});
