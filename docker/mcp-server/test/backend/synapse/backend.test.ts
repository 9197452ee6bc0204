import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { BotCredentials, bootstrapSynapse } from '../../../../../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient as BootstrapClient } from '../../../../../chat-clients/matrix-client';
import { MatrixHomeserver } from '../../../../../test/support/matrix-homeserver';
import { SynapseBackend } from '../../../src/backend/synapse/backend';
import { synapseBackendConfig } from '../../../src/backend/synapse/config';
import { liftExpired } from '../../../../../chat-clients/matrix-moderation-expiry';
import { MatrixClient } from '../../../../../chat-clients/matrix-client';
import { chatError } from '../../support/chat-error';

/**
 * The synapse backend against a homeserver: the stand-in (test/support/matrix-homeserver.ts)
 * by default, or a real Synapse when SYNAPSE_URL and SYNAPSE_SHARED_SECRET are set. Everything is
 * set up over HTTP (shared-secret registration, the Synapse bootstrap, invite/join), and every
 * user and alias carries a random suffix, so a real server can be reused run after run.
 */
const REAL_URL = process.env.SYNAPSE_URL;
const SHARED_SECRET = process.env.SYNAPSE_SHARED_SECRET ?? 'stand-in-registration-shared-secret';
const suffix = randomBytes(4).toString('hex');
const silentLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Account {
  userId: string;
  token: string;
}

describe(`SynapseBackend against ${REAL_URL ? `the homeserver at ${REAL_URL}` : 'the stand-in homeserver'}`, () => {
  let standIn: MatrixHomeserver | undefined;
  let baseUrl: string;
  let bot: Account;
  let alice: Account;
  let bob: Account;
  let rooms: { internal: string; partners: string; community: string };
  let aliases: string[];
  let backend: SynapseBackend;
  let nowMs: number;

  /** A raw client-API call as some user (the test's own hands, not the code under test). */
  const call = async (account: Account, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${baseUrl}/_matrix/client/v3/${path}`, {
      method,
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const enc = encodeURIComponent;
  const build = (token = bot.token, url = baseUrl, timeoutMs?: number) =>
    new SynapseBackend({ client: new MatrixClient({ baseUrl: url, accessToken: token, timeoutMs }), roomAliases: aliases, log: silentLog, now: () => nowMs });

  beforeAll(async () => {
    if (REAL_URL) baseUrl = REAL_URL.replace(/\/+$/, '');
    else {
      standIn = await MatrixHomeserver.start({ serverName: 'chat.test', registrationSharedSecret: SHARED_SECRET });
      baseUrl = standIn.url;
    }
    const setup = new BootstrapClient({ baseUrl });
    let stored: BotCredentials | undefined;
    const specs = [
      { alias: `internal-${suffix}`, name: 'Phenom Internal', topic: 'Internal team chat' },
      { alias: `partners-${suffix}`, name: 'Phenom Partners', topic: 'Chat with Phenom partners' },
      { alias: `community-${suffix}`, name: 'Phenom Community', topic: 'The Phenom community' },
    ];
    const result = await bootstrapSynapse({
      client: setup,
      sharedSecret: SHARED_SECRET,
      bot: { localpart: `mcp-bot-${suffix}`, password: `bot-password-${suffix}-0123456789`, displayName: 'MCP Bot' },
      rooms: specs,
      store: { load: async () => stored, save: async (c) => void (stored = c) },
    });
    bot = { userId: stored!.userId, token: stored!.accessToken };
    const serverName = bot.userId.slice(bot.userId.indexOf(':') + 1);
    aliases = specs.map((s) => `#${s.alias}:${serverName}`);
    const [internal, partners, community] = result.rooms.map((r) => r.roomId) as [string, string, string];
    rooms = { internal, partners, community };
    const register = async (name: string, displayName: string): Promise<Account> => {
      const r = await setup.registerWithSharedSecret(SHARED_SECRET, { username: `${name}-${suffix}`, password: `password-${name}-${suffix}-0123`, displayName, admin: false });
      return { userId: r.user_id, token: r.access_token };
    };
    alice = await register('alice', 'Alice');
    bob = await register('bob', 'Bob');
    for (const user of [alice, bob]) {
      expect((await call(bot, 'POST', `rooms/${enc(rooms.community)}/invite`, { user_id: user.userId })).status).toBe(200);
      expect((await call(user, 'POST', `rooms/${enc(rooms.community)}/join`, {})).status).toBe(200);
    }
  });
  beforeEach(() => {
    nowMs = Date.now();
    backend = build();
  });
  afterAll(async () => {
    await backend?.close();
    await standIn?.stop();
  });

  it('takes a room alias as its id, and calls an unknown alias or a non-Matrix id an unknown room', async () => {
    for (const roomId of ['!unknown:chat.test', 'general', '#nope:chat.test']) {
      expect((await chatError(backend.listMembers({ roomId, limit: 100 }))).code).toBe('room_not_found');
    }
    // A room's alias works as its id.
    expect((await backend.listMembers({ roomId: aliases[2]!, limit: 100 })).members.length).toBe(3);
  });

  it('mutes through power levels, so the homeserver itself refuses the member’s messages, and unmutes', async () => {
    const room = `rooms/${enc(rooms.community)}/send/m.room.message`;
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    const muted = await backend.muteUser({ roomId: rooms.community, userId: alice.userId, minutes: 15 });
    expect(muted).toMatchObject({ userId: alice.userId, isMuted: true, mutedUntil: '2030-01-01T00:15:00.000Z', role: 'user' });
    expect((await call(alice, 'PUT', `${room}/t-muted-${suffix}`, { msgtype: 'm.text', body: 'can I talk?' })).status).toBe(403);
    const unmuted = await backend.unmuteUser({ roomId: rooms.community, userId: alice.userId });
    expect(unmuted).toMatchObject({ isMuted: false, mutedUntil: null });
    expect((await call(alice, 'PUT', `${room}/t-unmuted-${suffix}`, { msgtype: 'm.text', body: 'now I can' })).status).toBe(200);
    expect(await chatError(backend.muteUser({ roomId: rooms.internal, userId: alice.userId }))).toMatchObject({ code: 'not_member', message: expect.stringContaining('Phenom Internal') });
    expect((await chatError(backend.muteUser({ roomId: rooms.community, userId: `@ghost-${suffix}:chat.test` }))).code).toBe('user_not_found');
  });

  it('bans with a record, refuses a second ban, and unbans', async () => {
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    const ban = await backend.banUser({ roomId: rooms.community, userId: bob.userId, reason: 'spam', minutes: 60 });
    expect(ban).toMatchObject({ roomId: rooms.community, userId: bob.userId, bannedBy: bot.userId, reason: 'spam', expiresAt: '2030-01-01T01:00:00.000Z' });
    expect(ban.id).toMatch(/^\$/);
    expect((await call(bob, 'PUT', `rooms/${enc(rooms.community)}/send/m.room.message/t-banned-${suffix}`, { msgtype: 'm.text', body: 'hi' })).status).toBe(403);
    expect(await chatError(backend.banUser({ roomId: rooms.community, userId: bob.userId, reason: 'again' }))).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('already banned'),
    });
    expect(await backend.unbanUser({ roomId: rooms.community, userId: bob.userId })).toEqual({ roomId: rooms.community, userId: bob.userId, wasBanned: true });
    expect(await backend.unbanUser({ roomId: rooms.community, userId: bob.userId })).toEqual({ roomId: rooms.community, userId: bob.userId, wasBanned: false });
    expect((await chatError(backend.unbanUser({ roomId: rooms.community, userId: `@ghost-${suffix}:chat.test` }))).code).toBe('user_not_found');
    expect((await chatError(backend.banUser({ roomId: rooms.community, userId: 'not a user id', reason: 'x' }))).code).toBe('user_not_found');
    // Back in for the tests that follow.
    expect((await call(bot, 'POST', `rooms/${enc(rooms.community)}/invite`, { user_id: bob.userId })).status).toBe(200);
    expect((await call(bob, 'POST', `rooms/${enc(rooms.community)}/join`, {})).status).toBe(200);
  });

  it('keeps its mute and ban records under state keys it may write: Matrix lets only the user set state keyed by their id', async () => {
    // Synapse's auth rules (event_auth.py): a state key starting with "@" belongs to that user alone.
    const others = await call(bot, 'PUT', `rooms/${enc(rooms.community)}/state/com.thephenom.chat.mute/${enc(alice.userId)}`, { muted_until: null });
    expect(others).toMatchObject({ status: 403, json: { errcode: 'M_FORBIDDEN', error: 'You are not allowed to set others state' } });
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    await backend.muteUser({ roomId: rooms.community, userId: alice.userId, minutes: 5 });
    const state = (await call(bot, 'GET', `rooms/${enc(rooms.community)}/state`)).json as unknown as Array<{ type: string; state_key: string }>;
    expect(state.filter((e) => e.type === 'com.thephenom.chat.mute').map((e) => e.state_key)).toEqual([`user:${alice.userId}`]);
    await backend.unmuteUser({ roomId: rooms.community, userId: alice.userId });
  });

  it('liftExpired (the one scheduled job) lifts timed mutes and bans once their time is up, once, and leaves open-ended ones', async () => {
    const carol = bob;
    const lift = () => liftExpired(new MatrixClient({ baseUrl, accessToken: bot.token }), Object.values(rooms), nowMs);
    const none = { lifted: [], cleared: [], failures: [] };
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    await backend.muteUser({ roomId: rooms.community, userId: alice.userId, minutes: 1 });
    await backend.banUser({ roomId: rooms.community, userId: carol.userId, reason: 'cool down', minutes: 1 });
    expect(await lift()).toEqual(none);
    nowMs += 2 * 60_000;
    expect(await lift()).toEqual({
      lifted: [
        { roomId: rooms.community, userId: alice.userId, kind: 'mute' },
        { roomId: rooms.community, userId: carol.userId, kind: 'ban' },
      ],
      cleared: [],
      failures: [],
    });
    const { members } = await backend.listMembers({ roomId: rooms.community, limit: 100 });
    expect(members.find((m) => m.userId === alice.userId)).toMatchObject({ isMuted: false });
    expect((await call(alice, 'PUT', `rooms/${enc(rooms.community)}/send/m.room.message/t-lifted-${suffix}`, { msgtype: 'm.text', body: 'free again' })).status).toBe(200);
    expect((await call(carol, 'POST', `rooms/${enc(rooms.community)}/join`, {})).status).toBe(403); // unbanned is "leave", not "join"
    expect(await lift()).toEqual(none);
    // A timed mute whose level a moderator has changed since is not the mute's to undo: only its record goes.
    await backend.muteUser({ roomId: rooms.community, userId: alice.userId, minutes: 1 });
    const pl = (await call(bot, 'GET', `rooms/${enc(rooms.community)}/state/m.room.power_levels/`)).json as { users: Record<string, number> };
    expect((await call(bot, 'PUT', `rooms/${enc(rooms.community)}/state/m.room.power_levels/`, { ...pl, users: { ...pl.users, [alice.userId]: -5 } })).status).toBe(200);
    nowMs += 2 * 60_000;
    expect(await lift()).toEqual({ lifted: [], cleared: [{ roomId: rooms.community, userId: alice.userId, kind: 'mute' }], failures: [] });
    expect((await backend.listMembers({ roomId: rooms.community, limit: 100 })).members.find((m) => m.userId === alice.userId)).toMatchObject({ isMuted: true, mutedUntil: null });
    await backend.unmuteUser({ roomId: rooms.community, userId: alice.userId });
    // An open-ended mute is never lifted.
    await backend.muteUser({ roomId: rooms.community, userId: alice.userId });
    nowMs += 365 * 24 * 3600_000;
    expect(await lift()).toEqual(none);
    await backend.unmuteUser({ roomId: rooms.community, userId: alice.userId });
    // Back in for the tests that follow.
    expect((await call(bot, 'POST', `rooms/${enc(rooms.community)}/invite`, { user_id: carol.userId })).status).toBe(200);
    expect((await call(carol, 'POST', `rooms/${enc(rooms.community)}/join`, {})).status).toBe(200);
  });

  it('liftExpired reports a room it cannot read and still lifts in the others', async () => {
    nowMs = Date.parse('2030-01-01T00:00:00Z');
    await backend.muteUser({ roomId: rooms.community, userId: alice.userId, minutes: 1 });
    nowMs += 2 * 60_000;
    const report = await liftExpired(new MatrixClient({ baseUrl, accessToken: bot.token }), ['!no-such-room:chat.test', rooms.community], nowMs);
    expect(report.lifted).toEqual([{ roomId: rooms.community, userId: alice.userId, kind: 'mute' }]);
    expect(report.failures).toEqual([{ what: 'read the state of !no-such-room:chat.test', error: expect.any(String) }]);
  });

  it('reports a bad bot token, an unreachable or silent homeserver as backend_unavailable', async () => {
    expect(await backend.health()).toEqual({ ok: true });
    const badToken = build('syt_not_a_token');
    expect(await badToken.health()).toEqual({ ok: false });
    expect(await chatError(badToken.listRooms())).toMatchObject({ code: 'backend_unavailable', message: expect.stringContaining('bot token') });
    expect((await chatError(build(bot.token, 'http://127.0.0.1:9').listRooms())).code).toBe('backend_unavailable');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const slow = build(bot.token, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, 100);
      expect(await chatError(slow.listRooms())).toMatchObject({ code: 'backend_unavailable', message: expect.stringContaining('did not answer within 0.1 s') });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('treats a replaced (tombstoned) room as inactive', async () => {
    expect((await call(bot, 'PUT', `rooms/${enc(rooms.partners)}/state/m.room.tombstone/`, { body: 'moved', replacement_room: rooms.internal })).status).toBe(200);
    expect(await chatError(backend.sendMessage({ roomId: rooms.partners, content: 'anyone?', messageType: 'text' }))).toMatchObject({ code: 'room_inactive' });
    expect((await backend.listRooms()).find((r) => r.id === rooms.partners)).toMatchObject({ isActive: false });
  });
});

// Homeserver configuration, so only against the stand-in: a real server's settings are its own.
(REAL_URL ? describe.skip : describe)('SynapseBackend on a homeserver that limits profile lookups to users sharing a room', () => {
  it('falls back to the Synapse admin API to tell an existing stranger from a missing user', async () => {
    const hs = await MatrixHomeserver.start({ serverName: 'chat.test', registrationSharedSecret: SHARED_SECRET, limitProfileRequestsToUsersWhoShareRooms: true });
    try {
      let stored: BotCredentials | undefined;
      const setup = new BootstrapClient({ baseUrl: hs.url });
      const { rooms } = await bootstrapSynapse({
        client: setup,
        sharedSecret: SHARED_SECRET,
        bot: { localpart: 'phenom-bot', password: 'bot-password-0123456789', displayName: 'Phenom Bot' },
        store: { load: async () => stored, save: async (c) => void (stored = c) },
      });
      const stranger = await setup.registerWithSharedSecret(SHARED_SECRET, { username: 'stranger', password: 'stranger-password-1', admin: false });
      const profile = await fetch(`${hs.url}/_matrix/client/v3/profile/${encodeURIComponent(stranger.user_id)}`, { headers: { authorization: `Bearer ${stored!.accessToken}` } });
      expect(profile.status).toBe(403);
      const backend = new SynapseBackend({
        client: new MatrixClient({ baseUrl: hs.url, accessToken: stored!.accessToken }),
        roomAliases: ['#internal:chat.test', '#partners:chat.test', '#community:chat.test'],
        log: silentLog,
      });
      const roomId = rooms[0]!.roomId;
      expect(await backend.banUser({ roomId, userId: stranger.user_id, reason: 'pre-emptive' })).toMatchObject({ userId: stranger.user_id, expiresAt: null });
      expect((await chatError(backend.banUser({ roomId, userId: '@ghost:chat.test', reason: 'x' }))).code).toBe('user_not_found');
      expect(hs.requests.filter((r) => r.path.startsWith('/_synapse/admin/v2/users/'))).toHaveLength(2);
    } finally {
      await hs.stop();
    }
  });
});

describe('synapseBackendConfig', () => {
  it('expands alias localparts with the server name', () => {
    expect(synapseBackendConfig({ SYNAPSE_URL: 'http://synapse:8008/', SYNAPSE_BOT_ACCESS_TOKEN: 't', MATRIX_SERVER_NAME: 'chat.example.com' })).toEqual({
      homeserverUrl: 'http://synapse:8008',
      accessToken: 't',
      serverName: 'chat.example.com',
      roomAliases: ['#internal:chat.example.com', '#partners:chat.example.com', '#community:chat.example.com'],
    });
    expect(synapseBackendConfig({ SYNAPSE_URL: 'http://s', SYNAPSE_BOT_ACCESS_TOKEN: 't', MATRIX_SERVER_NAME: 'x.org', MATRIX_ROOM_ALIASES: 'a, #b:other.org' }).roomAliases).toEqual([
      '#a:x.org',
      '#b:other.org',
    ]);
  });

  it('names every missing key and never echoes the token', () => {
    expect(() => synapseBackendConfig({ SYNAPSE_BOT_ACCESS_TOKEN: 'syt_secret' })).toThrow(/SYNAPSE_URL is required[\s\S]*MATRIX_SERVER_NAME is required/);
    expect(() => synapseBackendConfig({ SYNAPSE_BOT_ACCESS_TOKEN: 'syt_secret' })).not.toThrow(/syt_secret/);
  });
});
