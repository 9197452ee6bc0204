import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BootstrapError, BotCredentials, bootstrapSynapse, CHAT_ROOMS, CredentialStore, MODERATION_POWER_LEVELS, RoomSpec } from '../../../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient, registrationMac } from '../../../chat-clients/matrix-client';
import { MatrixHomeserver } from '../../support/matrix-homeserver';

class MemoryStore implements CredentialStore {
  saved: BotCredentials | undefined;
  saves = 0;
  async load() {
    return this.saved;
  }
  async save(c: BotCredentials) {
    this.saved = c;
    this.saves++;
  }
}

const SECRET = 'stand-in-registration-shared-secret';
const bot = { localpart: 'phenom-bot', password: 'a-long-bot-password-0123456789', displayName: 'Phenom Bot' };

describe('registrationMac', () => {
  it('equals the MAC computed by the same Python code Synapse runs (hmac.new(..., hashlib.sha1))', () => {
    const py = [
      'import hmac, hashlib, sys',
      'secret, nonce, user, password, admin = sys.argv[1:6]',
      'm = hmac.new(key=secret.encode(), digestmod=hashlib.sha1)',
      'm.update(nonce.encode("utf8")); m.update(b"\\x00"); m.update(user.encode("utf-8")); m.update(b"\\x00")',
      'm.update(password.encode("utf-8")); m.update(b"\\x00"); m.update(b"admin" if admin == "1" else b"notadmin")',
      'print(m.hexdigest())',
    ].join('\n');
    for (const admin of [true, false]) {
      const args = ['sécret', 'abc123nonce', 'bøt', 'pässword', admin ? '1' : '0'];
      const out = spawnSync('python3', ['-c', py, ...args], { encoding: 'utf8' });
      expect(out.status).toBe(0);
      expect(registrationMac(args[0], args[1], args[2], args[3], admin)).toBe(out.stdout.trim());
    }
  });
});

describe('bootstrapSynapse against the stand-in homeserver', () => {
  let hs: MatrixHomeserver;
  let client: MatrixClient;
  const store = new MemoryStore();

  beforeAll(async () => {
    hs = await MatrixHomeserver.start({ serverName: 'chat.example.test', registrationSharedSecret: SECRET });
    client = new MatrixClient({ baseUrl: hs.url, timeoutMs: 5000 });
  });
  afterAll(() => hs.stop());

  it('first run registers the admin bot, stores its token and creates the three rooms', async () => {
    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store });

    expect(result.botUserId).toBe('@phenom-bot:chat.example.test');
    expect(result.botSession).toBe('registered');
    expect(hs.user(result.botUserId)).toEqual({ admin: true, displayName: 'Phenom Bot', hasPassword: true });
    expect(store.saved?.userId).toBe(result.botUserId);
    expect((await client.whoami(store.saved!.accessToken)).user_id).toBe(result.botUserId);

    expect(result.rooms.map((r) => [r.alias, r.created])).toEqual([
      ['#internal:chat.example.test', true],
      ['#partners:chat.example.test', true],
      ['#community:chat.example.test', true],
    ]);
    for (const [i, spec] of CHAT_ROOMS.entries()) {
      const roomId = hs.roomIdForAlias(`#${spec.alias}:chat.example.test`)!;
      expect(roomId).toBe(result.rooms[i].roomId);
      expect(hs.roomState(roomId, 'm.room.name')).toEqual({ name: spec.name });
      expect(hs.roomState(roomId, 'm.room.topic')).toEqual({ topic: spec.topic });
      expect(hs.roomState(roomId, 'm.room.join_rules')).toEqual({ join_rule: 'invite' });
      expect(hs.roomState(roomId, 'm.room.power_levels')).toMatchObject({ ...MODERATION_POWER_LEVELS, users: { [result.botUserId]: 100 } });
    }
    expect(CHAT_ROOMS.map((r) => r.name)).toEqual(['Phenom Internal', 'Phenom Partners', 'Phenom Community']);
  });

  it('a second run finds the bot and the rooms and changes nothing', async () => {
    const before = hs.requests.length;
    const rooms = hs.roomIds().length;
    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store });

    expect(result.botSession).toBe('stored');
    expect(result.rooms.every((r) => !r.created && r.updated.length === 0)).toBe(true);
    expect(hs.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(hs.roomIds()).toHaveLength(rooms);
    expect(store.saves).toBe(1);
  });

  it('a run that lost the stored token logs the bot in with its password and creates nothing', async () => {
    const fresh = new MemoryStore();
    const before = hs.requests.length;
    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store: fresh });

    expect(result.botSession).toBe('logged-in');
    expect(fresh.saved?.userId).toBe('@phenom-bot:chat.example.test');
    expect(result.rooms.every((r) => !r.created && r.updated.length === 0)).toBe(true);
    // only the registration attempt (refused: user exists) and the login wrote anything
    expect(
      hs.requests
        .slice(before)
        .filter((r) => r.method !== 'GET')
        .map((r) => r.path),
    ).toEqual(['/_synapse/admin/v1/register', '/_matrix/client/v3/login']);
  });

  it('puts back a room name, topic and power levels that drifted, and nothing else', async () => {
    const token = store.saved!.accessToken;
    const roomId = hs.roomIdForAlias('#partners:chat.example.test')!;
    await client.putState(token, roomId, 'm.room.name', { name: 'Renamed by hand' });
    const levels = hs.roomState(roomId, 'm.room.power_levels')!;
    await client.putState(token, roomId, 'm.room.power_levels', { ...levels, ban: 100 });

    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store });
    expect(result.rooms.map((r) => r.updated)).toEqual([[], ['m.room.name', 'm.room.power_levels'], []]);
    expect(hs.roomState(roomId, 'm.room.name')).toEqual({ name: 'Phenom Partners' });
    expect(hs.roomState(roomId, 'm.room.power_levels')).toMatchObject({ ban: 50 });
  });

  it('fails clearly when the bot was demoted below the level it needs', async () => {
    const other = await MatrixHomeserver.start({ serverName: 'demoted.test', registrationSharedSecret: SECRET });
    try {
      const c = new MatrixClient({ baseUrl: other.url });
      const s = new MemoryStore();
      const rooms: RoomSpec[] = [{ alias: 'only', name: 'Only', topic: 'One room' }];
      await bootstrapSynapse({ client: c, sharedSecret: SECRET, bot, store: s, rooms });
      const roomId = other.roomIdForAlias('#only:demoted.test')!;
      const levels = other.roomState(roomId, 'm.room.power_levels') as { users: Record<string, number> };
      await c.putState(s.saved!.accessToken, roomId, 'm.room.power_levels', { ...levels, users: { [s.saved!.userId]: 50 } });
      await expect(bootstrapSynapse({ client: c, sharedSecret: SECRET, bot, store: s, rooms })).rejects.toThrow(/cannot moderate #only:demoted.test/);
    } finally {
      await other.stop();
    }
  });
});

describe("bootstrapSynapse on an adopted homeserver (seed 003's existing rooms)", () => {
  let hs: MatrixHomeserver;
  let client: MatrixClient;
  let oldAdmin: string;
  const rooms: RoomSpec[] = [
    { alias: 'internal', name: 'Phenom Internal', topic: 'Internal team chat' },
    { alias: 'partners', name: 'Phenom Partners', topic: 'Chat with Phenom partners' },
  ];

  beforeAll(async () => {
    hs = await MatrixHomeserver.start({ serverName: 'thephenom.app', registrationSharedSecret: SECRET });
    client = new MatrixClient({ baseUrl: hs.url, timeoutMs: 5000 });
    // The old server: its "admin" account (seed 002, step 3) made #internal and talked in it; #partners does not exist.
    const admin = await client.registerWithSharedSecret(SECRET, { username: 'admin', password: 'old-admin-password-123', admin: true });
    oldAdmin = admin.access_token;
    const internal = await client.createRoom(oldAdmin, { preset: 'private_chat', name: 'Phenom Internal', topic: 'Internal team chat', room_alias_name: 'internal' });
    await fetch(`${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(internal)}/send/m.room.message/t1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${oldAdmin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body: 'history from before the cut-over' }),
    });
  });
  afterAll(() => hs.stop());

  it('takes over the room that exists by alias (never a second one), keeps its history, and creates only the missing room', async () => {
    const internalId = hs.roomIdForAlias('#internal:thephenom.app')!;
    const before = hs.roomIds().length;
    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store: new MemoryStore(), rooms });

    expect(result.rooms.map((r) => ({ alias: r.alias, created: r.created, adopted: r.adopted }))).toEqual([
      { alias: '#internal:thephenom.app', created: false, adopted: true },
      { alias: '#partners:thephenom.app', created: true, adopted: undefined },
    ]);
    expect(result.rooms[0].roomId).toBe(internalId);
    expect(hs.roomIds()).toHaveLength(before + 1);
    // the bot is a member with the old admin's level, and the old message is still there for it to read
    expect(hs.roomState(internalId, 'm.room.power_levels')).toMatchObject({ ...MODERATION_POWER_LEVELS, users: { [result.botUserId]: 100 } });
    expect(hs.roomState(internalId, 'm.room.member', result.botUserId)).toMatchObject({ membership: 'join' });
    const messages = await fetch(`${hs.url}/_matrix/client/v3/rooms/${encodeURIComponent(internalId)}/messages?dir=b&limit=50`, {
      headers: { authorization: `Bearer ${oldAdmin}` },
    }).then((r) => r.json() as Promise<{ chunk: { content: { body?: string } }[] }>);
    expect(messages.chunk.map((e) => e.content.body).filter(Boolean)).toEqual(['history from before the cut-over']);
  });

  it('a second run changes nothing', async () => {
    const store = new MemoryStore();
    await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store, rooms });
    const before = hs.requests.length;
    const result = await bootstrapSynapse({ client, sharedSecret: SECRET, bot, store, rooms });
    expect(result.rooms.every((r) => !r.created && !r.adopted && r.updated.length === 0)).toBe(true);
    expect(hs.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('fails clearly, creating nothing, when no local member can hand the room over', async () => {
    const other = await MatrixHomeserver.start({ serverName: 'orphan.test', registrationSharedSecret: SECRET });
    try {
      const c = new MatrixClient({ baseUrl: other.url });
      const owner = await c.registerWithSharedSecret(SECRET, { username: 'owner', password: 'owner-password-1234', admin: false });
      const roomId = await c.createRoom(owner.access_token, { preset: 'private_chat', room_alias_name: 'only' });
      // The only admin leaves: nobody local can raise the bot any more.
      await c.putState(owner.access_token, roomId, 'm.room.member', { membership: 'leave' }, owner.user_id);
      const before = other.roomIds().length;
      await expect(bootstrapSynapse({ client: c, sharedSecret: SECRET, bot, store: new MemoryStore(), rooms: [{ alias: 'only', name: 'Only', topic: 'One room' }] })).rejects.toThrow(
        /#only:orphan.test \(.*\) exists but @phenom-bot:orphan.test is not in it, and Synapse could not make it the room's admin \(No local admin user in room\)/,
      );
      expect(other.roomIds()).toHaveLength(before);
    } finally {
      await other.stop();
    }
  });
});

describe('bootstrapSynapse failures', () => {
  let hs: MatrixHomeserver;
  beforeAll(async () => {
    hs = await MatrixHomeserver.start({ serverName: 'fail.test', registrationSharedSecret: SECRET });
  });
  afterAll(() => hs.stop());

  it('a wrong shared secret is a clear failure and registers nobody', async () => {
    const client = new MatrixClient({ baseUrl: hs.url });
    const store = new MemoryStore();
    const run = bootstrapSynapse({ client, sharedSecret: 'not-the-secret', bot, store });
    await expect(run).rejects.toBeInstanceOf(BootstrapError);
    await expect(bootstrapSynapse({ client, sharedSecret: 'not-the-secret', bot, store })).rejects.toThrow(/rejected the registration shared secret \(HMAC incorrect\)/);
    expect(hs.user('@phenom-bot:fail.test')).toBeUndefined();
    expect(store.saved).toBeUndefined();
    expect(hs.roomIds()).toEqual([]);
  });

  it('the stand-in enforces Synapse rules: single-use nonce, and the admin flag must match the MAC', async () => {
    const post = (body: object) => fetch(`${hs.url}/_synapse/admin/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const nonce = async () => ((await (await fetch(`${hs.url}/_synapse/admin/v1/register`)).json()) as { nonce: string }).nonce;

    const n1 = await nonce();
    const flagMismatch = await post({ nonce: n1, username: 'eve', password: 'pw', admin: false, mac: registrationMac(SECRET, n1, 'eve', 'pw', true) });
    expect(flagMismatch.status).toBe(403);
    expect(await flagMismatch.json()).toEqual({ errcode: 'M_FORBIDDEN', error: 'HMAC incorrect' });

    // the nonce was consumed by the failed attempt
    const reuse = await post({ nonce: n1, username: 'eve', password: 'pw', admin: true, mac: registrationMac(SECRET, n1, 'eve', 'pw', true) });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error: string }).error).toBe('unrecognised nonce');

    const n2 = await nonce();
    const ok = await post({ nonce: n2, username: 'eve', password: 'pw', admin: false, mac: registrationMac(SECRET, n2, 'eve', 'pw', false) });
    expect(ok.status).toBe(200);
    expect(hs.user('@eve:fail.test')?.admin).toBe(false);
  });

  it('an existing non-admin account with the bot name is reported, not used', async () => {
    hs.createUser('squatter', { password: 'a-long-bot-password-0123456789' });
    const run = bootstrapSynapse({ client: new MatrixClient({ baseUrl: hs.url }), sharedSecret: SECRET, bot: { ...bot, localpart: 'squatter' }, store: new MemoryStore() });
    await expect(run).rejects.toThrow(/@squatter:fail.test exists but is not a server admin/);
  });

  it('an unreachable homeserver is a clear failure', async () => {
    await hs.stop();
    const run = bootstrapSynapse({ client: new MatrixClient({ baseUrl: hs.url, timeoutMs: 2000 }), sharedSecret: SECRET, bot, store: new MemoryStore() });
    await expect(run).rejects.toThrow(/cannot reach the homeserver at http:\/\/127\.0\.0\.1:\d+/);
    hs = await MatrixHomeserver.start({ serverName: 'fail.test', registrationSharedSecret: SECRET });
  });
});

// Runs the same first-run / second-run checks against a real Synapse when one is given. Skipped
// otherwise because Synapse cannot be installed on this machine (no Docker, no Python wheels for it
// offline); the stand-in above covers the same behaviour on every run.
const real = process.env.SYNAPSE_URL && process.env.SYNAPSE_SHARED_SECRET ? describe : describe.skip;
real('bootstrapSynapse against a real homeserver (SYNAPSE_URL, SYNAPSE_SHARED_SECRET)', () => {
  const tag = randomBytes(4).toString('hex');
  const client = new MatrixClient({ baseUrl: process.env.SYNAPSE_URL ?? 'http://unset' });
  const store = new MemoryStore();
  const realBot = { localpart: `phenom-bot-test-${tag}`, password: randomBytes(24).toString('hex'), displayName: 'Phenom Bot (test)' };
  const rooms: RoomSpec[] = CHAT_ROOMS.map((r) => ({ ...r, alias: `test-${tag}-${r.alias}` }));

  it('registers, creates the rooms, then a second run changes nothing', async () => {
    const first = await bootstrapSynapse({ client, sharedSecret: process.env.SYNAPSE_SHARED_SECRET!, bot: realBot, store, rooms });
    expect(first.botSession).toBe('registered');
    expect(first.rooms.every((r) => r.created)).toBe(true);
    const second = await bootstrapSynapse({ client, sharedSecret: process.env.SYNAPSE_SHARED_SECRET!, bot: realBot, store, rooms });
    expect(second.botSession).toBe('stored');
    expect(second.rooms.map((r) => r.roomId)).toEqual(first.rooms.map((r) => r.roomId));
    expect(second.rooms.every((r) => !r.created && r.updated.length === 0)).toBe(true);
  });

  it('a wrong shared secret is a clear failure', async () => {
    const run = bootstrapSynapse({ client, sharedSecret: 'wrong-secret', bot: { ...realBot, localpart: `${realBot.localpart}-x` }, store: new MemoryStore(), rooms });
    await expect(run).rejects.toThrow(/rejected the registration shared secret/);
  });
});
