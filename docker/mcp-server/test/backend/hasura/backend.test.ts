import { randomUUID } from 'node:crypto';
import { createMigratedDatabase } from '../../../../../test/support/postgres/migrated';
import type { TestDatabase } from '../../../../../test/support/postgres';
import { HasuraBackend } from '../../../src/backend/hasura/backend';
import { CognitoTokenProvider } from '../../../src/backend/hasura/cognito-token';
import { hasuraBackendConfig } from '../../../src/backend/hasura/config';
import * as docs from '../../../src/backend/hasura/documents';
import { HasuraGraphQLError } from '../../../src/backend/hasura/errors';
import { HasuraClient } from '../../../../../chat-clients/hasura-client';
import type { AgentRole } from '../../../src/backend/hasura/backend';
import { chatError } from '../../support/chat-error';
import { AGENT, ALICE, BOB, ChatFixture, seedChat, snapshotChat } from '../../support/chat-fixture';
import { CognitoStandIn } from '../../support/cognito-standin';
import { HasuraStandIn } from '../../support/hasura-standin';
import { AB_LOG_SOURCES, HASURA_SEND_OPERATION } from '../../../../../chat-domain/ab-log-sources';
import { AB_METRICS } from '../../../../../chat-domain/ab-metrics';
import { HASURA_LOGGING_ENV } from '../../../../../lib/chat-hasura-lite/engine-logging';
import { matchesFilterPattern } from '../../../../../test/support/aws/filter-pattern';

const CLIENT_ID = 'agentclient0000000000000001';
const CLIENT_SECRET = 'agent-secret';
const LOGIN = 'mcp-agent@chat.example.com';
const PASSWORD = 'Agent-Passw0rd!';

describe('HasuraBackend against a stand-in Hasura on the real chat schema', () => {
  let db: TestDatabase;
  let fixture: ChatFixture;
  let cognito: CognitoStandIn;
  let hasura: HasuraStandIn;
  let backend: HasuraBackend;
  /** The backend's clock; Cognito's and Postgres's are the real one unless a test skews it. */
  let backendNow: () => number;

  const build = (options: { timeoutMs?: number } = {}) => {
    const tokens = new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD, now: () => backendNow() });
    return new HasuraBackend({ client: new HasuraClient({ endpoint: hasura.url, tokens, timeoutMs: options.timeoutMs }), tokens, now: () => backendNow() });
  };

  beforeAll(async () => {
    db = await createMigratedDatabase('hasura');
    fixture = await seedChat(db.pool);
    cognito = new CognitoStandIn({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, loginName: LOGIN, password: PASSWORD, sub: AGENT, nowSeconds: () => Math.floor(Date.now() / 1000) });
    await cognito.start();
    hasura = new HasuraStandIn({ pool: db.pool, cognito, engineEnv: HASURA_LOGGING_ENV });
    await hasura.start();
  });
  beforeEach(() => {
    backendNow = Date.now;
    hasura.delayMs = 0;
    backend = build();
  });
  afterAll(async () => {
    await hasura?.stop();
    await cognito?.stop();
    await db?.drop();
  });

  it('sends with a client_message_id exactly once: the retry inserts nothing (on_conflict DO NOTHING) and returns the stored message', async () => {
    const key = randomUUID();
    const first = await backend.sendMessage({ roomId: fixture.rooms.internal, content: 'once', messageType: 'text', clientMessageId: key });
    const operations = hasura.operations.length;
    const second = await backend.sendMessage({ roomId: fixture.rooms.internal, content: 'once', messageType: 'text', clientMessageId: key });
    expect(second).toEqual(first);
    // The insert ran as role user, conflicted on the key and returned null (no error), then one re-read.
    expect(hasura.operations.slice(operations)).toEqual(['SendMessage', 'GetMessageByClientId']);
    expect(hasura.roles.slice(operations)).toEqual(['user', 'chat_admin']);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM chat_messages WHERE content = 'once'");
    expect(rows[0].n).toBe(1);
    // Without a key, two sends are two messages.
    await backend.sendMessage({ roomId: fixture.rooms.internal, content: 'twice', messageType: 'text' });
    await backend.sendMessage({ roomId: fixture.rooms.internal, content: 'twice', messageType: 'text' });
    expect((await db.pool.query("SELECT count(*)::int AS n FROM chat_messages WHERE content = 'twice'")).rows[0].n).toBe(2);
  });

  it('logs each send, stored or refused, as graphql-engine does with the deployed log settings, so the A/B source counts both and nothing else', async () => {
    const from = hasura.httpLog.length;
    await backend.sendMessage({ roomId: fixture.rooms.internal, content: 'logged', messageType: 'text' });
    await backend.listRooms();
    await db.pool.query('UPDATE chat_members SET is_muted = true WHERE room_id = $1 AND user_id = $2', [fixture.rooms.partners, AGENT]);
    try {
      expect(await chatError(backend.sendMessage({ roomId: fixture.rooms.partners, content: 'refused', messageType: 'text' }))).toMatchObject({ code: 'muted' });
    } finally {
      await db.pool.query('UPDATE chat_members SET is_muted = false WHERE room_id = $1 AND user_id = $2', [fixture.rooms.partners, AGENT]);
    }
    const lines = hasura.httpLog.slice(from);
    const sends = lines.filter((l) => matchesFilterPattern(AB_LOG_SOURCES.hasuraSend.filterPattern, l)).map((l) => JSON.parse(l) as Record<string, unknown>);
    // The other operation is logged too (under its own name), and is not a send.
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[1]!)).toMatchObject({ type: 'http-log', level: 'info', detail: { operation: { query: { operationName: 'ListRooms' } } } });
    expect(sends.map((l) => (l.detail as { operation: { query: unknown } }).operation.query)).toEqual([
      { operationName: HASURA_SEND_OPERATION },
      expect.objectContaining({ operationName: HASURA_SEND_OPERATION, variables: { object: expect.objectContaining({ content: 'refused' }) } }),
    ]);
    const data = sends.map((l) => AB_LOG_SOURCES.hasuraSend.data(l));
    expect(data.map((d) => d.find((x) => x.metric === AB_METRICS.sendErrors)?.value)).toEqual([0, 1]);
    expect(data.every((d) => (d.find((x) => x.metric === AB_METRICS.sendLatency)?.value ?? -1) > 0)).toBe(true);
  });

  it('posts as role user and does everything else as chat_admin, never as the reserved admin', async () => {
    const from = hasura.roles.length;
    const sent = await backend.sendMessage({ roomId: fixture.rooms.community, content: 'roles', messageType: 'text' });
    await backend.listRooms();
    await backend.getMessages({ roomId: fixture.rooms.community, limit: 1, includeDeleted: true });
    await backend.deleteMessage({ roomId: fixture.rooms.community, messageId: sent.id });
    await backend.listMembers({ roomId: fixture.rooms.community, limit: 100 });
    await backend.muteUser({ roomId: fixture.rooms.community, userId: ALICE, minutes: 5 });
    await backend.unmuteUser({ roomId: fixture.rooms.community, userId: ALICE });
    await backend.banUser({ roomId: fixture.rooms.community, userId: ALICE, reason: 'roles' });
    await backend.unbanUser({ roomId: fixture.rooms.community, userId: ALICE });
    await backend.health();
    const ran = hasura.operations.slice(from).map((op, i) => `${op}:${hasura.roles[from + i]}`);
    expect(ran).toEqual([
      'SendMessage:user',
      'ListRooms:chat_admin',
      'GetMessages:chat_admin',
      'SoftDeleteMessage:chat_admin',
      'ListMembers:chat_admin',
      'SetMute:chat_admin',
      'SetMute:chat_admin',
      'BanTarget:chat_admin',
      'InsertBan:chat_admin',
      'DeleteActiveBans:chat_admin',
      'Health:chat_admin',
    ]);
  });

  it('returns a phenom_link message with its resolved link preview', async () => {
    await db.pool.query("INSERT INTO link_previews (url, phenom_id, title, media_type) VALUES ('https://thephenom.app/p/abc', 'abc', 'A sighting', 'video')");
    const sent = await backend.sendMessage({ roomId: fixture.rooms.partners, content: 'look', messageType: 'phenom_link', phenomId: 'abc' });
    expect(sent.linkPreview).toEqual({ phenomId: 'abc', url: 'https://thephenom.app/p/abc', title: 'A sighting', description: null, thumbnailUrl: null, mediaType: 'video' });
  });

  it('pages a room newest first with no duplicates and no gaps, and leaves deleted messages out', async () => {
    const room = fixture.rooms.partners;
    await db.pool.query('DELETE FROM chat_messages WHERE room_id = $1', [room]);
    // Same timestamp for several rows, so the id tie-breaker of the keyset is exercised.
    await db.pool.query(
      `INSERT INTO chat_messages (room_id, user_id, content, created_at)
       SELECT $1, $2, 'm' || g, timestamptz '2026-01-01 00:00:00+00' + ((g / 3) || ' seconds')::interval FROM generate_series(1, 11) g`,
      [room, AGENT],
    );
    const { rows: all } = await db.pool.query('SELECT id FROM chat_messages WHERE room_id = $1 ORDER BY created_at DESC, id DESC', [room]);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await backend.getMessages({ roomId: room, limit: 4, before: cursor, includeDeleted: false });
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    expect(pages).toBe(3);

    const deleted = await backend.deleteMessage({ roomId: room, messageId: seen[1]! });
    expect(deleted).toEqual({ messageId: seen[1], roomId: room, alreadyDeleted: false });
    const visible = await backend.getMessages({ roomId: room, limit: 100, includeDeleted: false });
    expect(visible.messages.map((m) => m.id)).toEqual(seen.filter((id) => id !== seen[1]));
    expect(visible.nextCursor).toBeNull();
    const withDeleted = await backend.getMessages({ roomId: room, limit: 2, includeDeleted: true });
    expect(withDeleted.messages[1]).toMatchObject({ id: seen[1], isDeleted: true });
    const { rows } = await db.pool.query('SELECT is_deleted, deleted_by FROM chat_messages WHERE id = $1', [seen[1]]);
    expect(rows).toEqual([{ is_deleted: true, deleted_by: AGENT }]);
  });

  it('refuses a forged cursor before asking Hasura', async () => {
    // Well-formed but forged: a timestamp JavaScript parses and PostgreSQL does not, so no query runs.
    const operations = hasura.operations.length;
    const forged = Buffer.from(JSON.stringify({ r: fixture.rooms.internal, t: '+275760-09-13T00:00:00.000Z', i: randomUUID() })).toString('base64url');
    expect((await chatError(backend.getMessages({ roomId: fixture.rooms.internal, limit: 5, before: forged, includeDeleted: false }))).code).toBe('invalid_cursor');
    expect(hasura.operations.length).toBe(operations);
  });

  it('maps foreign-key and check violations of a ban to clear errors, storing nothing', async () => {
    const before = await snapshotChat(db.pool);
    expect((await chatError(backend.banUser({ roomId: fixture.rooms.community, userId: 'ghost', reason: 'x' }))).code).toBe('user_not_found');
    expect((await chatError(backend.banUser({ roomId: randomUUID(), userId: BOB, reason: 'x' }))).code).toBe('room_not_found');
    const zero = await chatError(backend.banUser({ roomId: fixture.rooms.community, userId: BOB, reason: 'x', minutes: 0 }));
    expect(zero).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('end after it starts') });
    expect((await chatError(backend.unbanUser({ roomId: fixture.rooms.community, userId: 'ghost' }))).code).toBe('user_not_found');
    expect(await snapshotChat(db.pool)).toBe(before);
  });

  // Hasura passes a class-23 error's message on bare and never with extensions.internal, dev mode or not.
  describe('chat rules raised by the database trigger', () => {
    afterEach(async () => {
      await db.pool.query('UPDATE chat_rooms SET is_active = true');
      await db.pool.query('UPDATE chat_members SET is_muted = false, muted_until = NULL');
      await db.pool.query('DELETE FROM chat_bans');
      await db.pool.query("INSERT INTO chat_members (room_id, user_id, role) VALUES ($1, $2, 'admin') ON CONFLICT DO NOTHING", [fixture.rooms.partners, AGENT]);
    });

    const send = () => backend.sendMessage({ roomId: fixture.rooms.partners, content: 'rule check', messageType: 'text' });
    const expectNothingStored = async (before: string) => expect(await snapshotChat(db.pool)).toBe(before);

    it('not_member', async () => {
      await db.pool.query('DELETE FROM chat_members WHERE room_id = $1 AND user_id = $2', [fixture.rooms.partners, AGENT]);
      const before = await snapshotChat(db.pool);
      expect(await chatError(send())).toMatchObject({ code: 'not_member', message: expect.stringContaining('Phenom Partners') });
      await expectNothingStored(before);
    });

    it('muted', async () => {
      await backend.muteUser({ roomId: fixture.rooms.partners, userId: AGENT, minutes: 30 });
      const before = await snapshotChat(db.pool);
      expect(await chatError(send())).toMatchObject({ code: 'muted', message: expect.stringContaining('muted') });
      await expectNothingStored(before);
    });

    it('banned', async () => {
      await db.pool.query("INSERT INTO chat_bans (room_id, user_id, banned_by, reason) VALUES ($1, $2, $3, 'test')", [fixture.rooms.partners, AGENT, BOB]);
      const before = await snapshotChat(db.pool);
      expect(await chatError(send())).toMatchObject({ code: 'banned', message: expect.stringContaining('banned') });
      await expectNothingStored(before);
    });

    it('room_inactive', async () => {
      await db.pool.query('UPDATE chat_rooms SET is_active = false WHERE id = $1', [fixture.rooms.partners]);
      const before = await snapshotChat(db.pool);
      expect(await chatError(send())).toMatchObject({ code: 'room_inactive', message: expect.stringContaining('Phenom Partners') });
      await expectNothingStored(before);
    });
  });

  describe("the stand-in holds every request to hasura-metadata/'s permissions for its role", () => {
    let client: HasuraClient;
    beforeEach(() => {
      const tokens = new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD });
      client = new HasuraClient({ endpoint: hasura.url, tokens });
    });
    /** The first error Hasura answered with, as {code, message}. */
    const rejection = async (role: string, name: string, query: string, variables: Record<string, unknown>) => {
      const error = await client.request(role as AgentRole, name, query, variables).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!(error instanceof HasuraGraphQLError)) throw new Error(`expected Hasura to reject ${name} as ${role}, got ${String(error)}`);
      return { code: error.code, message: error.errors[0]!.message };
    };
    const message = (extra: Record<string, unknown> = {}) => ({ object: { id: randomUUID(), room_id: fixture.rooms.community, content: 'probe', message_type: 'text', phenom_id: null, ...extra } });
    const upsert = (updateColumns: string) =>
      docs.SEND_MESSAGE.replace('update_columns: []', `update_columns: [${updateColumns}]`).replace('chat_messages_room_id_user_id_client_message_id_key', 'chat_messages_pkey');

    it('user may not set user_id (preset), name update columns in on_conflict (no UPDATE), or read deleted_by; chat_admin may not insert messages', async () => {
      const before = await snapshotChat(db.pool);
      expect(await rejection('user', 'SendMessage', docs.SEND_MESSAGE, message({ user_id: AGENT }))).toEqual({
        code: 'validation-failed',
        message: "field 'user_id' not found in type: 'chat_messages_insert_input'",
      });
      // Without UPDATE the role's update-column enum holds only a placeholder (graphql-engine's OnConflict.hs).
      expect(await rejection('user', 'SendMessage', upsert('content'), message())).toEqual({
        code: 'validation-failed',
        message: "expected one of the values ['_PLACEHOLDER'] for type 'chat_messages_update_column', but found 'content'",
      });
      expect(await rejection('chat_admin', 'SendMessage', docs.SEND_MESSAGE, message())).toEqual({
        code: 'validation-failed',
        message: "field 'insert_chat_messages_one' not found in type: 'mutation_root'",
      });
      expect(await rejection('user', 'Probe', 'query Probe { chat_messages { id deleted_by } }', {})).toEqual({
        code: 'validation-failed',
        message: "field 'deleted_by' not found in type: 'chat_messages'",
      });
      expect(await snapshotChat(db.pool)).toBe(before);
    });

    it('user may ask for on_conflict with update_columns: [] (DO NOTHING), as InsertOnConflict8260Spec does for an insert-only role: a duplicate is ignored', async () => {
      const first = message({ client_message_id: `probe-${randomUUID()}` });
      const inserted = await client.request<{ insert_chat_messages_one: { id: string } | null }>('user', 'SendMessage', docs.SEND_MESSAGE, first);
      expect(inserted.insert_chat_messages_one).toMatchObject({ id: first.object.id });
      const before = await snapshotChat(db.pool);
      const again = { object: { ...first.object, id: randomUUID(), content: 'probe again' } };
      expect(await client.request('user', 'SendMessage', docs.SEND_MESSAGE, again)).toEqual({ insert_chat_messages_one: null });
      // On the primary key too, and with an empty update_columns spelled out or left to its default.
      expect(await client.request('user', 'SendMessage', upsert(''), first)).toEqual({ insert_chat_messages_one: null });
      expect(await snapshotChat(db.pool)).toBe(before);
    });

    it('chat_admin may not set banned_by (preset) or banned_at (database default) on a ban', async () => {
      const before = await snapshotChat(db.pool);
      const ban = { room_id: fixture.rooms.community, user_id: ALICE, reason: 'probe', expires_at: null };
      expect(await rejection('chat_admin', 'InsertBan', docs.INSERT_BAN, { object: { ...ban, banned_by: BOB } })).toEqual({
        code: 'validation-failed',
        message: "field 'banned_by' not found in type: 'chat_bans_insert_input'",
      });
      expect(await rejection('chat_admin', 'InsertBan', docs.INSERT_BAN, { object: { ...ban, banned_at: new Date().toISOString() } })).toEqual({
        code: 'validation-failed',
        message: "field 'banned_at' not found in type: 'chat_bans_insert_input'",
      });
      expect(await snapshotChat(db.pool)).toBe(before);
    });

    it("applies the user role's row filter: a user reads no deleted message", async () => {
      const sent = await backend.sendMessage({ roomId: fixture.rooms.community, content: 'filtered', messageType: 'text' });
      await backend.deleteMessage({ roomId: fixture.rooms.community, messageId: sent.id });
      expect(await client.request('user', 'GetMessage', docs.GET_MESSAGE, { id: sent.id })).toEqual({ chat_messages_by_pk: null });
      expect(await client.request('chat_admin', 'GetMessage', docs.GET_MESSAGE, { id: sent.id })).toMatchObject({ chat_messages_by_pk: { id: sent.id, is_deleted: true } });
    });

    it("refuses the reserved role admin: the agent's token does not allow it", async () => {
      expect(await rejection('admin', 'ListRooms', docs.LIST_ROOMS, {})).toEqual({ code: 'access-denied', message: 'Your requested role is not in allowed roles' });
    });
  });

  it('checks content length and phenom_id before calling Hasura', async () => {
    const operations = hasura.operations.length;
    expect((await chatError(backend.sendMessage({ roomId: fixture.rooms.internal, content: 'x'.repeat(4001), messageType: 'text' }))).code).toBe('content_too_long');
    expect((await chatError(backend.sendMessage({ roomId: fixture.rooms.internal, content: 'x', messageType: 'phenom_link' }))).code).toBe('invalid_input');
    expect(hasura.operations.length).toBe(operations);
    // Exactly 4000 characters (not bytes) is allowed: 4000 emoji are 16000 bytes of UTF-8.
    const long = await backend.sendMessage({ roomId: fixture.rooms.internal, content: '🛸'.repeat(4000), messageType: 'text' });
    expect([...long.content]).toHaveLength(4000);
  });

  it('renews the token once when Hasura rejects it as expired, and goes on', async () => {
    await backend.listRooms();
    const calls = cognito.calls.length;
    // Hasura now sees the cached token as expired although the backend's clock says it is fresh.
    cognito.expireIssuedTokens();
    const operations = hasura.operations.length;
    expect((await backend.listRooms()).length).toBe(3);
    expect(cognito.calls.slice(calls)).toEqual([{ flow: 'REFRESH_TOKEN_AUTH', ok: true }]);
    expect(hasura.operations.slice(operations)).toEqual(['ListRooms']);
  });

  it('maps a role Hasura does not allow to forbidden', async () => {
    const restricted = new CognitoStandIn({ ...cognito.options, allowedRoles: ['user'] });
    await restricted.start();
    const standIn = new HasuraStandIn({ pool: db.pool, cognito: restricted });
    await standIn.start();
    try {
      const tokens = new CognitoTokenProvider({ endpoint: restricted.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD });
      const limited = new HasuraBackend({ client: new HasuraClient({ endpoint: standIn.url, tokens }), tokens });
      expect(await chatError(limited.listRooms())).toMatchObject({ code: 'forbidden', message: expect.stringContaining('chat-admin') });
    } finally {
      await standIn.stop();
      await restricted.stop();
    }
  });

  it('reports backend_unavailable on a timeout, and health follows reachability', async () => {
    expect(await backend.health()).toEqual({ ok: true });
    hasura.delayMs = 500;
    const slow = build({ timeoutMs: 100 });
    expect(await chatError(slow.listRooms())).toMatchObject({ code: 'backend_unavailable', message: expect.stringContaining('did not answer within 0.1 s') });
    expect(await slow.health()).toEqual({ ok: false });
    hasura.delayMs = 0;
    const unreachable = new HasuraBackend({
      client: new HasuraClient({
        endpoint: 'http://127.0.0.1:9/v1/graphql',
        tokens: new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD }),
      }),
      tokens: new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: PASSWORD }),
    });
    expect(await unreachable.health()).toEqual({ ok: false });
    expect((await chatError(unreachable.listRooms())).code).toBe('backend_unavailable');
  });

  it('reports wrong agent credentials as backend_unavailable without echoing them', async () => {
    const tokens = new CognitoTokenProvider({ endpoint: cognito.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, username: LOGIN, password: 'nope-nope' });
    const broken = new HasuraBackend({ client: new HasuraClient({ endpoint: hasura.url, tokens }), tokens });
    const error = await chatError(broken.listRooms());
    expect(error.code).toBe('backend_unavailable');
    expect(error.message).toContain('NotAuthorizedException');
    expect(error.message).not.toContain('nope-nope');
  });
});

describe('hasuraBackendConfig', () => {
  const env = { HASURA_ENDPOINT: 'http://hasura:8080/v1/graphql', AGENT_CLIENT_ID: 'c', AGENT_CLIENT_SECRET: 's', AGENT_USERNAME: 'u', AGENT_PASSWORD: 'p', COGNITO_USER_POOL_ID: 'us-east-1_AbC123' };

  it('derives the Cognito endpoint from the user pool region', () => {
    expect(hasuraBackendConfig(env)).toEqual({
      endpoint: env.HASURA_ENDPOINT,
      cognitoEndpoint: 'https://cognito-idp.us-east-1.amazonaws.com/',
      clientId: 'c',
      clientSecret: 's',
      username: 'u',
      password: 'p',
    });
  });

  it('names every missing key and never echoes a secret', () => {
    expect(() => hasuraBackendConfig({ AGENT_PASSWORD: 'hunter2' })).toThrow(
      /HASURA_ENDPOINT is required[\s\S]*AGENT_CLIENT_ID is required[\s\S]*AGENT_USERNAME is required[\s\S]*COGNITO_USER_POOL_ID/,
    );
    expect(() => hasuraBackendConfig({ AGENT_PASSWORD: 'hunter2' })).not.toThrow(/hunter2/);
  });
});
