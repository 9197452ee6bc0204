import { randomBytes } from 'node:crypto';
import { SynapseAdminHttp, syncServerAdmins } from '../../../lambda/shared/synapse-server-admins';
import { MatrixClient, MatrixHttpError } from '../../../chat-clients/matrix-client';
import { MatrixHomeserver } from '../../support/matrix-homeserver';

describe('syncServerAdmins against the stand-in homeserver', () => {
  let hs: MatrixHomeserver;
  let bot: { userId: string; accessToken: string };
  let api: SynapseAdminHttp;

  beforeEach(async () => {
    hs = await MatrixHomeserver.start({ serverName: 'chat.test' });
    bot = hs.createUser('phenom-bot', { admin: true });
    api = new SynapseAdminHttp({ baseUrl: hs.url, accessToken: bot.accessToken, timeoutMs: 5000 });
  });
  afterEach(() => hs.stop());

  it('promotes chat-admin members, demotes other admins, keeps the bot, and skips members who never signed in', async () => {
    hs.createUser('alice');
    hs.createUser('carol', { admin: true });
    hs.createUser('bob');

    const result = await syncServerAdmins(api, { members: ['@alice:chat.test', '@dave:chat.test'], keep: [bot.userId] });

    expect(result).toEqual({ promoted: ['@alice:chat.test'], demoted: ['@carol:chat.test'], notYetRegistered: ['@dave:chat.test'], unchanged: [bot.userId] });
    expect(hs.user('@alice:chat.test')?.admin).toBe(true);
    expect(hs.user('@carol:chat.test')?.admin).toBe(false);
    expect(hs.user('@bob:chat.test')?.admin).toBe(false);
    expect(hs.user(bot.userId)?.admin).toBe(true);
    // never creates an account: Synapse does that at the first SSO sign-in
    expect(hs.user('@dave:chat.test')).toBeUndefined();
  });

  it('changes nothing on a second run with the same members', async () => {
    hs.createUser('alice');
    await syncServerAdmins(api, { members: ['@alice:chat.test'], keep: [bot.userId] });
    const writesBefore = hs.writes().length;
    const again = await syncServerAdmins(api, { members: ['@alice:chat.test'], keep: [bot.userId] });
    expect(again).toEqual({ promoted: [], demoted: [], notYetRegistered: [], unchanged: ['@alice:chat.test', bot.userId] });
    expect(hs.writes().length).toBe(writesBefore);
  });

  it('keeps the admins keepIf says to keep, and asks only about admins it would otherwise demote', async () => {
    hs.createUser('operator', { admin: true });
    hs.createUser('carol', { admin: true });
    hs.createUser('alice', { admin: true });
    const asked: string[] = [];
    const result = await syncServerAdmins(api, {
      members: ['@alice:chat.test'],
      keep: [bot.userId],
      keepIf: async (userId) => {
        asked.push(userId);
        return userId === '@operator:chat.test';
      },
    });
    expect(result).toMatchObject({ promoted: [], demoted: ['@carol:chat.test'] });
    expect(asked.sort()).toEqual(['@carol:chat.test', '@operator:chat.test']);
    expect(hs.user('@operator:chat.test')?.admin).toBe(true);
  });

  it('finds admins on every page of the user list', async () => {
    for (let i = 0; i < 230; i++) hs.createUser(`user-${String(i).padStart(3, '0')}`, { admin: i === 5 || i === 229 });
    expect((await api.listServerAdmins()).sort()).toEqual(['@phenom-bot:chat.test', '@user-005:chat.test', '@user-229:chat.test']);
    const result = await syncServerAdmins(api, { members: [], keep: [bot.userId] });
    expect(result.demoted).toEqual(['@user-005:chat.test', '@user-229:chat.test']);
  });

  it('refuses user ids that are not Matrix ids, and an empty keep list, before calling Synapse', async () => {
    await expect(syncServerAdmins(api, { members: ['alice@phenom.test'], keep: [bot.userId] })).rejects.toThrow(
      'members: expected Matrix user ids such as @alice:chat.example.com, got "alice@phenom.test"',
    );
    await expect(syncServerAdmins(api, { members: [], keep: [] })).rejects.toThrow(/keep: name at least the admin bot/);
    expect(hs.requests.filter((r) => r.path.startsWith('/_synapse/admin'))).toEqual([]);
  });

  it("reports Synapse's refusal when the token is not a server admin's", async () => {
    const plain = hs.createUser('mallory');
    const run = syncServerAdmins(new SynapseAdminHttp({ baseUrl: hs.url, accessToken: plain.accessToken }), { members: ['@mallory:chat.test'], keep: [plain.userId] });
    await expect(run).rejects.toThrow(new MatrixHttpError(403, 'M_FORBIDDEN', 'You are not a server admin', 'GET', '/_synapse/admin/v2/users'));
  });

  it('names the call when Synapse does not answer', async () => {
    const down = new SynapseAdminHttp({ baseUrl: 'http://127.0.0.1:9', accessToken: 't', timeoutMs: 1000 });
    await expect(down.listServerAdmins()).rejects.toThrow(/^GET \/_synapse\/admin\/v2\/users\?from=0.* Synapse did not answer/);
  });
});

// The same promote / demote / skip against a real Synapse when one is given (SYNAPSE_URL, SYNAPSE_SHARED_SECRET).
// The homeserver may be shared, so every admin that exists before the test is kept.
const real = process.env.SYNAPSE_URL && process.env.SYNAPSE_SHARED_SECRET ? describe : describe.skip;
real('syncServerAdmins against a real homeserver', () => {
  const tag = randomBytes(4).toString('hex');
  const baseUrl = process.env.SYNAPSE_URL ?? 'http://unset';
  const client = new MatrixClient({ baseUrl });
  const register = (name: string, admin: boolean) =>
    client.registerWithSharedSecret(process.env.SYNAPSE_SHARED_SECRET!, { username: `${name}-${tag}`, password: randomBytes(16).toString('hex'), admin });

  it('promotes a member, demotes a non-member admin, skips an unknown member, and is idempotent', async () => {
    const bot = await register('sync-bot', true);
    const alice = await register('sync-alice', false);
    const carol = await register('sync-carol', true);
    const serverName = bot.user_id.split(':').slice(1).join(':');
    const dave = `@sync-dave-${tag}:${serverName}`;
    const api = new SynapseAdminHttp({ baseUrl, accessToken: bot.access_token });
    const others = (await api.listServerAdmins()).filter((u) => u !== carol.user_id);

    const first = await syncServerAdmins(api, { members: [alice.user_id, dave], keep: others });
    expect(first.promoted).toEqual([alice.user_id]);
    expect(first.demoted).toEqual([carol.user_id]);
    expect(first.notYetRegistered).toEqual([dave]);
    expect(await client.isServerAdmin(bot.access_token, alice.user_id)).toBe(true);
    expect(await client.isServerAdmin(bot.access_token, carol.user_id)).toBe(false);

    const second = await syncServerAdmins(api, { members: [alice.user_id, dave], keep: others });
    expect(second).toMatchObject({ promoted: [], demoted: [], notYetRegistered: [dave] });
  });
});
