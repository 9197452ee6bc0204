import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { entitlementsFor } from '../../../chat-domain/groups';
import { PostgresBackend } from '../../../docker/mcp-server/src/backend/postgres/backend';
import { PreviewRepository } from '../../../lambda/link-preview/preview-repository';
import { CLIENT_ROLES, ClientRoleName, ensureClientRole } from '../../../lambda/shared/client-roles';
import { applyHasuraEntitlements, readHasuraSnapshot, removeUnknownMembers } from '../../../lambda/shared/hasura-membership';
import { runMigrations } from '../../../lambda/migrations/runner';
import { createTestDatabase, TestDatabase, testServerUrl } from '../../support/postgres';
import { sqlState } from '../../support/postgres/connect';

/**
 * The per-client roles on real PostgreSQL 17, set up as on RDS: by a master user that is not a
 * superuser (CREATEROLE, owner of the database and, through the migrations, of the chat tables).
 */
const suffix = randomBytes(3).toString('hex');
const master = `master_${suffix}`;
const roleName = (client: ClientRoleName) => `${client}_${suffix}`;
const password = (client: string) => `pw-${client}-${suffix}`;

let db: TestDatabase;
let superuser: Client;
let asMaster: Client;
const sessions: Client[] = [];
const pools: Pool[] = [];

/** A pool logged in as `client`'s role, as the client's own code takes it. */
function poolAs(client: ClientRoleName): Pool {
  const url = new URL(db.url);
  url.username = roleName(client);
  url.password = password(client);
  const pool = new Pool({ connectionString: url.toString(), max: 2 });
  pools.push(pool);
  return pool;
}

async function connect(user: string, pass: string): Promise<Client> {
  const url = new URL(db.url);
  url.username = user;
  url.password = pass;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  sessions.push(client);
  return client;
}

const connectAs = (client: ClientRoleName) => connect(roleName(client), password(client));

beforeAll(async () => {
  db = await createTestDatabase('client_roles');
  // The server's superuser, outside the test database (dropping that database ends its sessions).
  superuser = new Client({ connectionString: testServerUrl() });
  await superuser.connect();
  await superuser.query(`CREATE ROLE ${master} LOGIN PASSWORD '${password('master')}' CREATEROLE NOSUPERUSER`);
  await superuser.query(`ALTER DATABASE "${db.name}" OWNER TO ${master}`);
  await db.pool.query(`ALTER SCHEMA public OWNER TO ${master}`);
  asMaster = await connect(master, password('master'));
  await runMigrations(asMaster, { schemaOwner: `${master}_owner` });
  for (const client of Object.keys(CLIENT_ROLES) as ClientRoleName[]) await ensureClientRole(asMaster, roleName(client), password(client), CLIENT_ROLES[client], { hasuraRole: roleName('hasura') });
  await asMaster.query(`INSERT INTO users (id, username) VALUES ('alice', 'alice'), ('bob', 'bob')`);
  await asMaster.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, u FROM chat_rooms, unnest(ARRAY['alice', 'bob']) u WHERE name = 'Phenom Community'`);
});

afterAll(async () => {
  await Promise.all([...sessions, ...pools].map((s) => s.end().catch(() => undefined)));
  await db.drop();
  // Roles are per server: drop them once the database holding their grants is gone.
  for (const role of [...Object.keys(CLIENT_ROLES).map((c) => roleName(c as ClientRoleName)), `narrowed_${suffix}`, `refused_${suffix}`, `${master}_owner`, master])
    await superuser.query(`DROP ROLE IF EXISTS ${role}`);
  await superuser.end();
});

const insertMessage = (c: Client, user = 'alice') =>
  c.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT id, $1, 'hi' FROM chat_rooms WHERE name = 'Phenom Community' RETURNING id`, [user]);

describe('each client role can do its job and is refused everything else (real PostgreSQL 17)', () => {
  it('link_preview writes the preview cache and nothing else: it cannot update messages or read bans', async () => {
    const c = await connectAs('link_preview');
    await c.query(`INSERT INTO link_previews (phenom_id, url, expires_at) VALUES ('p1', 'https://x/p1', now() + interval '1 day')
                   ON CONFLICT (phenom_id) DO UPDATE SET url = EXCLUDED.url`);
    await expect(c.query(`SELECT url FROM link_previews WHERE phenom_id = 'p1'`)).resolves.toMatchObject({ rowCount: 1 });
    expect(await sqlState(() => c.query(`UPDATE chat_messages SET content = 'x'`))).toBe('42501');
    expect(await sqlState(() => c.query('SELECT * FROM chat_bans'))).toBe('42501');
    expect(await sqlState(() => c.query('SELECT * FROM chat_messages'))).toBe('42501');
    expect(await sqlState(() => c.query('SELECT * FROM users'))).toBe('42501');
  });

  it('provisioner writes users and memberships, reads rooms and bans, and cannot post a message', async () => {
    const c = await connectAs('provisioner');
    await c.query(`INSERT INTO users (id, username) VALUES ('carol', 'carol') ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username`);
    await c.query(`INSERT INTO chat_members (room_id, user_id) SELECT id, 'carol' FROM chat_rooms WHERE name = 'Phenom Community' ON CONFLICT (room_id, user_id) DO NOTHING`);
    await c.query(`DELETE FROM chat_members WHERE user_id = 'carol'`);
    await expect(c.query('SELECT count(*) FROM chat_bans')).resolves.toBeDefined();
    expect(await sqlState(() => insertMessage(c))).toBe('42501');
    expect(await sqlState(() => c.query(`DELETE FROM users WHERE id = 'carol'`))).toBe('42501');
    expect(await sqlState(() => c.query(`INSERT INTO chat_bans (room_id, user_id, banned_by) SELECT id, 'bob', 'carol' FROM chat_rooms LIMIT 1`))).toBe('42501');
  });

  it('mcp runs the tools: posts, soft-deletes, mutes and bans; cannot edit content, hard-delete, or ALTER anything', async () => {
    const c = await connectAs('mcp');
    const { rows } = await insertMessage(c);
    await c.query(`UPDATE chat_messages SET is_deleted = true, deleted_by = 'bob' WHERE id = $1 RETURNING *`, [rows[0].id]);
    await c.query(`UPDATE chat_members SET is_muted = true, muted_until = now() + interval '1 minute' WHERE user_id = 'bob' RETURNING *`);
    await c.query(`UPDATE chat_members SET is_muted = false, muted_until = NULL WHERE user_id = 'bob'`);
    await c.query(`INSERT INTO chat_bans (room_id, user_id, banned_by) SELECT room_id, 'bob', 'alice' FROM chat_members WHERE user_id = 'bob' LIMIT 1`);
    await c.query(`DELETE FROM chat_bans WHERE user_id = 'bob'`);
    expect(await sqlState(() => c.query(`UPDATE chat_messages SET content = 'edited'`))).toBe('42501');
    expect(await sqlState(() => c.query(`UPDATE chat_members SET role = 'admin'`))).toBe('42501');
    expect(await sqlState(() => c.query('DELETE FROM chat_messages'))).toBe('42501');
    expect(await sqlState(() => c.query('ALTER TABLE chat_rooms ADD COLUMN x int'))).toBe('42501');
    expect(await sqlState(() => c.query('DROP TABLE link_previews'))).toBe('42501');
    expect(await sqlState(() => c.query('CREATE TABLE mine (x int)'))).toBe('42501');
    expect(await sqlState(() => c.query(`INSERT INTO users (id) VALUES ('mallory')`))).toBe('42501');
  });

  it('hasura has DML on the chat tables and creates its catalog and event triggers, but cannot change the chat schema', async () => {
    const c = await connectAs('hasura');
    await insertMessage(c, 'bob');
    await c.query('CREATE SCHEMA IF NOT EXISTS hdb_catalog');
    // Shaped as graphql-engine's catalog: an event log, a plain (not SECURITY DEFINER) plpgsql
    // function that writes it, and a trigger on the tracked table.
    await c.query(`CREATE TABLE hdb_catalog.event_log (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), table_name text, payload json)`);
    await c.query(`CREATE FUNCTION hdb_catalog.notify_preview() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN INSERT INTO hdb_catalog.event_log (table_name, payload) VALUES (TG_TABLE_NAME, row_to_json(NEW)); RETURN NULL; END $$`);
    await c.query(`CREATE TRIGGER notify_preview AFTER INSERT ON public.chat_messages FOR EACH ROW EXECUTE FUNCTION hdb_catalog.notify_preview()`);
    expect(await sqlState(() => c.query('ALTER TABLE chat_messages ADD COLUMN x int'))).toBe('42501');
    expect(await sqlState(() => c.query('DROP TABLE chat_bans'))).toBe('42501');
  });

  it("mcp's inserts fire Hasura's trigger as mcp, so they need the event log: refused until the roles step runs again, then accepted", async () => {
    const c = await connectAs('mcp');
    expect(await sqlState(() => insertMessage(c))).toBe('42501');
    await ensureClientRole(asMaster, roleName('mcp'), password('mcp'), CLIENT_ROLES.mcp, { hasuraRole: roleName('hasura') });
    await insertMessage(c);
    expect(await sqlState(() => c.query('SELECT * FROM hdb_catalog.event_log'))).toBe('42501');
    expect(await sqlState(() => c.query('DELETE FROM hdb_catalog.event_log'))).toBe('42501');
  });
});

describe("each client's own query code runs as its role (real PostgreSQL 17)", () => {
  it('link-preview: the repository caches and finds a preview', async () => {
    const repository = new PreviewRepository(async () => poolAs('link_preview'));
    await repository.save('p-code', 'https://x/p-code', { title: 'T', description: 'D', thumbnailUrl: null, mediaType: 'image' }, 1);
    expect(await repository.findFresh('p-code')).toMatchObject({ url: 'https://x/p-code', title: 'T' });
  });

  it('provisioner: a sign-in writes the user and memberships, the reconciler reads and prunes them', async () => {
    const pool = poolAs('provisioner');
    const user = { sub: 'dave', username: 'dave', displayName: 'Dave' };
    const change = await applyHasuraEntitlements(pool, user, entitlementsFor([]));
    expect(change.joined).toBeGreaterThan(0);
    const snapshot = await readHasuraSnapshot(pool, ['dave']);
    expect(snapshot.users.get('dave')).toEqual({ username: 'dave', displayName: 'Dave' });
    expect(snapshot.memberships.get('dave')?.get('Phenom Community')).toBeDefined();
    expect(await removeUnknownMembers(pool, ['alice', 'bob', 'carol'], new Date(Date.now() + 60_000))).toBeGreaterThan(0);
  });

  it('mcp: the postgres backend lists, posts, mutes, bans and deletes as the agent', async () => {
    const backend = new PostgresBackend(poolAs('mcp'), 'alice');
    try {
      const rooms = await backend.listRooms();
      const room = rooms.find((r) => r.name === 'Phenom Community')!;
      await expect(backend.health()).resolves.toEqual({ ok: true });
      const members = await backend.listMembers({ roomId: room.id, limit: 10 });
      expect(members.members.map((m) => m.userId)).toEqual(expect.arrayContaining(['alice', 'bob']));
      await backend.muteUser({ roomId: room.id, userId: 'bob', minutes: 5 });
      await backend.unmuteUser({ roomId: room.id, userId: 'bob' });
      await backend.banUser({ roomId: room.id, userId: 'bob', reason: 'test', minutes: 5 });
      expect((await backend.listBans({ roomId: room.id, limit: 10 })).bans).toHaveLength(1);
      await backend.unbanUser({ roomId: room.id, userId: 'bob' });
      const sent = await backend.sendMessage({ roomId: room.id, content: 'from the agent', messageType: 'text' });
      expect((await backend.getMessages({ roomId: room.id, limit: 5, includeDeleted: false })).messages.map((m) => m.id)).toContain(sent.id);
      await expect(backend.deleteMessage({ roomId: room.id, messageId: sent.id })).resolves.toMatchObject({ alreadyDeleted: false });
    } finally {
      await backend.close();
    }
  });
});

describe('ensureClientRole', () => {
  it('takes away what the spec no longer lists, and re-sets the password', async () => {
    const name = `narrowed_${suffix}`;
    await ensureClientRole(asMaster, name, 'one', { tables: { chat_rooms: { privileges: ['SELECT', 'UPDATE'] }, users: { privileges: ['SELECT', 'UPDATE'], updateColumns: ['username'] } } });
    await ensureClientRole(asMaster, name, 'two', { tables: { users: { privileges: ['SELECT'] } } });
    expect(await sqlState(() => connect(name, 'one'))).toBe('28P01');
    const c = await connect(name, 'two');
    await expect(c.query('SELECT id FROM users')).resolves.toBeDefined();
    expect(await sqlState(() => c.query('SELECT * FROM chat_rooms'))).toBe('42501');
    expect(await sqlState(() => c.query(`UPDATE users SET username = 'x'`))).toBe('42501');
    await db.pool.query(`DROP OWNED BY ${name}`);
  });

  it('refuses a spec naming a missing table or a bad identifier, and grants nothing', async () => {
    const name = `refused_${suffix}`;
    await expect(ensureClientRole(asMaster, name, 'pw', { tables: { chat_rooms: { privileges: ['SELECT'] }, no_such_table: { privileges: ['SELECT'] } } })).rejects.toThrow(
      /cannot grant refused_.*: no table no_such_table in the public schema/,
    );
    const { rows } = await asMaster.query(`SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE grantee = $1`, [name]);
    expect(rows[0].n).toBe(0);
    await expect(ensureClientRole(asMaster, name, 'pw', { tables: { 'chat_rooms; DROP TABLE users': { privileges: ['SELECT'] } } })).rejects.toThrow(/expected lower-case SQL identifiers/);
    await expect(ensureClientRole(asMaster, name, 'pw', { tables: { users: { privileges: ['SELECT'], updateColumns: ['username'] } } })).rejects.toThrow(/updateColumns on users without UPDATE/);
  });
});
