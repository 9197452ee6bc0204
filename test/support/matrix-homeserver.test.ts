import { MODERATION_POWER_LEVELS } from '../../lambda/synapse-bootstrap/bootstrap';
import { Account, call, createLoggedInAccount, createSsoAccount, enc, latestEventId, memberships, REAL_SYNAPSE, registerAccount, startTestHomeserver, TestHomeserver } from './matrix-test-server';

/**
 * The stand-in homeserver's rules for the endpoints the membership reconciler calls, checked by
 * the same requests against the stand-in (npm test) and, with SYNAPSE_URL/SYNAPSE_SHARED_SECRET,
 * against a real Synapse: what one refuses the other must refuse, with the same status and errcode.
 * The expectations come from Synapse's source (JoinRoomAliasServlet, RoomMemberHandler,
 * event_auth._is_membership_change_allowed and _check_power_levels, UserRestServletV2).
 */
describe(`homeserver rules (${REAL_SYNAPSE ? `real Synapse at ${process.env.SYNAPSE_URL}` : 'stand-in'})`, () => {
  let hs: TestHomeserver;
  let bot: Account;
  let alice: Account;
  let bob: Account;
  let carol: string;
  let roomId: string;
  let serverName: string;
  const provider = 'oidc-cognito';

  const expectRefused = (answer: { status: number; json: Record<string, unknown> }, status: number, errcode: string) => {
    expect({ status: answer.status, errcode: answer.json.errcode }).toEqual({ status, errcode });
  };
  const adminJoin = (as: Account, room: string, userId: unknown) => call(hs, as.token, 'POST', `/_synapse/admin/v1/join/${enc(room)}`, userId === undefined ? {} : { user_id: userId });
  const kick = (as: Account, userId: string) => call(hs, as.token, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/kick`, { user_id: userId, reason: 'test' });
  const levels = async () => (await call(hs, bot.token, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`)).json as { users: Record<string, number> };
  const putLevels = (as: Account, content: unknown) => call(hs, as.token, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`, content);

  beforeAll(async () => {
    hs = await startTestHomeserver();
    bot = await registerAccount(hs, `rules-bot-${hs.tag}`, true);
    serverName = bot.userId.slice(bot.userId.indexOf(':') + 1);
    alice = await createLoggedInAccount(hs, bot, `rules-alice-${hs.tag}`);
    bob = await createLoggedInAccount(hs, bot, `rules-bob-${hs.tag}`);
    carol = await createSsoAccount(hs, bot, `rules-carol-${hs.tag}`, provider, `sub-carol-${hs.tag}`, 'Carol');
    const created = await call(hs, bot.token, 'POST', '/_matrix/client/v3/createRoom', {
      preset: 'private_chat',
      visibility: 'private',
      name: `Rules ${hs.tag}`,
      room_alias_name: `rules-${hs.tag}`,
      power_level_content_override: MODERATION_POWER_LEVELS,
    });
    expect(created.status).toBe(200);
    roomId = String(created.json.room_id);
  });
  afterAll(() => hs?.close());

  describe('POST /_synapse/admin/v1/join/{roomIdOrAlias}', () => {
    it('invites (the room is invite-only) and joins a local user, by alias', async () => {
      const r = await adminJoin(bot, `#rules-${hs.tag}:${serverName}`, carol);
      expect(r).toEqual({ status: 200, json: { room_id: roomId } });
      expect((await memberships(hs, bot.token, roomId))[carol]).toBe('join');
    });

    it('refuses a user who is already joined: the invite it sends first fails event_auth', async () => {
      expectRefused(await adminJoin(bot, roomId, carol), 403, 'M_FORBIDDEN');
    });

    it('refuses callers that are not server admins, unknown users, remote users and a missing user_id', async () => {
      expectRefused(await adminJoin(alice, roomId, bob.userId), 403, 'M_FORBIDDEN');
      expectRefused(await adminJoin(bot, roomId, `@nobody-${hs.tag}:${serverName}`), 404, 'M_NOT_FOUND');
      expect((await adminJoin(bot, roomId, '@someone:elsewhere.example')).status).toBe(400);
      expectRefused(await adminJoin(bot, roomId, undefined), 400, 'M_MISSING_PARAM');
      expectRefused(await adminJoin(bot, `#missing-${hs.tag}:${serverName}`, bob.userId), 404, 'M_NOT_FOUND');
    });

    it('refuses when the admin is not in the (invite-only) room: it cannot send the invite', async () => {
      const other = await call(hs, alice.token, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat', name: `Alice only ${hs.tag}` });
      expect(other.status).toBe(200);
      expectRefused(await adminJoin(bot, String(other.json.room_id), bob.userId), 403, 'M_FORBIDDEN');
    });

    it('refuses a banned user (RoomMemberHandler: "Cannot invite user who was banned")', async () => {
      expect((await call(hs, bot.token, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/ban`, { user_id: bob.userId, reason: 'test' })).status).toBe(200);
      expectRefused(await adminJoin(bot, roomId, bob.userId), 403, 'M_BAD_STATE');
      expect((await call(hs, bot.token, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/unban`, { user_id: bob.userId })).status).toBe(200);
      expect((await memberships(hs, bot.token, roomId))[bob.userId]).toBe('leave');
    });
  });

  describe('POST /_matrix/client/v3/rooms/{roomId}/kick', () => {
    it('refuses a member below the kick level, and a target who is not in the room', async () => {
      expect((await adminJoin(bot, roomId, alice.userId)).status).toBe(200);
      expectRefused(await kick(alice, carol), 403, 'M_FORBIDDEN');
      expectRefused(await kick(bot, bob.userId), 403, 'M_FORBIDDEN');
      expectRefused(await kick(bot, `@never-${hs.tag}:${serverName}`), 403, 'M_FORBIDDEN');
    });

    it('lets a moderator kick a member with a lower level, once', async () => {
      expect(await kick(bot, carol)).toEqual({ status: 200, json: {} });
      expect((await memberships(hs, bot.token, roomId))[carol]).toBe('leave');
      expectRefused(await kick(bot, carol), 403, 'M_FORBIDDEN');
      // A kicked user can be joined again.
      expect((await adminJoin(bot, roomId, carol)).status).toBe(200);
    });

    it('refuses kicking a member of equal or higher level', async () => {
      const current = await levels();
      expect((await putLevels(bot, { ...current, users: { ...current.users, [alice.userId]: 50, [carol]: 50 } })).status).toBe(200);
      expectRefused(await kick(alice, carol), 403, 'M_FORBIDDEN');
    });
  });

  describe('PUT /_matrix/client/v3/rooms/{roomId}/state/m.room.power_levels/', () => {
    it('refuses a member who lacks the level m.room.power_levels needs', async () => {
      const current = await levels();
      expectRefused(await putLevels(alice, { ...current, users: { ...current.users, [carol]: 0 } }), 403, 'M_FORBIDDEN');
    });

    it("refuses changing the level of someone at one's own level, or granting more than one's own", async () => {
      const current = await levels();
      expect((await putLevels(bot, { ...current, users: { ...current.users, [alice.userId]: 100 } })).status).toBe(200);
      const now = await levels();
      const { [bot.userId]: _bot, ...withoutBot } = now.users;
      expectRefused(await putLevels(alice, { ...now, users: withoutBot }), 403, 'M_FORBIDDEN');
      expectRefused(await putLevels(alice, { ...now, users: { ...now.users, [bob.userId]: 101 } }), 403, 'M_FORBIDDEN');
      // Nor can the bot take alice back down now: she is at its own level.
      expectRefused(await putLevels(bot, { ...now, users: { ...now.users, [alice.userId]: 0 } }), 403, 'M_FORBIDDEN');
      // She can lower herself.
      expect((await putLevels(alice, { ...now, users: { ...now.users, [alice.userId]: 0 } })).status).toBe(200);
    });

    it('refuses levels that are not integers (room version 10 enforces them)', async () => {
      const current = await levels();
      expect((await putLevels(bot, { ...current, kick: '50' })).status).toBe(400);
      expect((await putLevels(bot, { ...current, users: { ...current.users, [carol]: 'fifty' } })).status).toBe(400);
    });

    it('answers the current event, and sends nothing, for the same content from the same sender', async () => {
      const current = await levels();
      const changed = { ...current, users: { ...current.users, [carol]: 10 } };
      const first = await putLevels(bot, changed);
      expect(first.status).toBe(200);
      const before = await latestEventId(hs, bot.token, roomId);
      const again = await putLevels(bot, changed);
      expect(again).toEqual(first);
      expect(await latestEventId(hs, bot.token, roomId)).toBe(before);
    });
  });

  describe('users by external id', () => {
    it('GET /_synapse/admin/v2/users/{userId} lists the external ids, and refuses remote users', async () => {
      const r = await call(hs, bot.token, 'GET', `/_synapse/admin/v2/users/${enc(carol)}`);
      expect(r.status).toBe(200);
      expect(r.json.external_ids).toEqual([{ auth_provider: provider, external_id: `sub-carol-${hs.tag}` }]);
      expect((await call(hs, bot.token, 'GET', `/_synapse/admin/v2/users/${enc('@x:elsewhere.example')}`)).status).toBe(400);
      expectRefused(await call(hs, bot.token, 'GET', `/_synapse/admin/v2/users/${enc(`@nobody-${hs.tag}:${serverName}`)}`), 404, 'M_NOT_FOUND');
      expectRefused(await call(hs, alice.token, 'GET', `/_synapse/admin/v2/users/${enc(carol)}`), 403, 'M_FORBIDDEN');
    });

    it('PUT /_synapse/admin/v2/users/{userId} refuses an external id another user has (409)', async () => {
      const r = await call(hs, bot.token, 'PUT', `/_synapse/admin/v2/users/${enc(`@rules-dave-${hs.tag}:${serverName}`)}`, {
        external_ids: [{ auth_provider: provider, external_id: `sub-carol-${hs.tag}` }],
      });
      expect(r.status).toBe(409);
    });

    it('GET /_synapse/admin/v1/auth_providers/{provider}/users/{id} finds the user (Synapse 1.68+) or is unknown to older versions', async () => {
      const found = await call(hs, bot.token, 'GET', `/_synapse/admin/v1/auth_providers/${provider}/users/${enc(`sub-carol-${hs.tag}`)}`);
      if (found.json.errcode === 'M_UNRECOGNIZED') {
        expect([400, 404]).toContain(found.status);
        expect(hs.real).toBe(true); // only a real pre-1.68 Synapse lacks the endpoint
        return;
      }
      expect(found).toEqual({ status: 200, json: { user_id: carol } });
      expectRefused(await call(hs, bot.token, 'GET', `/_synapse/admin/v1/auth_providers/${provider}/users/unknown-${hs.tag}`), 404, 'M_NOT_FOUND');
    });
  });
});
