import { createServer, Server, Socket } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { lazyPool } from '../../../lambda/shared/database';
import { createPostAuthenticationHandler, DATABASE_TIMEOUTS, PROVISIONING_BUDGET_MS } from '../../../lambda/user-provisioner/provisioner';
import { createTriggerCognitoClient } from '../../../lambda/user-provisioner/user-groups';
import { CognitoStandIn, startCognitoStandIn } from '../../support/aws/cognito-stand-in';
import { freeLoopbackPort } from '../../support/net';
import { TestDatabase } from '../../support/postgres';
import { createMigratedDatabase } from '../../support/postgres/migrated';
import { CapturedOutput, capturePowertoolsOutput } from '../../support/powertools-output';

let db: TestDatabase;
let cognito: CognitoStandIn;
let output: CapturedOutput;

beforeAll(async () => {
  [db, cognito] = await Promise.all([createMigratedDatabase('prov'), startCognitoStandIn()]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), cognito?.close()]);
});
beforeEach(() => (output = capturePowertoolsOutput()));
afterEach(() => output.restore());

function cognitoClient(url = cognito.url) {
  return createTriggerCognitoClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
}

/** The handler as the Lambda entry builds it, but on the test database and the Cognito stand-in. */
function provisioner(databaseUrl = db.url, cognitoUrl = cognito.url) {
  return createPostAuthenticationHandler({
    cognito: cognitoClient(cognitoUrl),
    pool: lazyPool(DATABASE_TIMEOUTS, { DATABASE_URL: databaseUrl }),
    logger: new Logger({ serviceName: 'user-provisioner-test' }),
    metrics: new Metrics({ namespace: 'PhenomChat', serviceName: 'user-provisioner-test' }),
  });
}

let counter = 0;
/** A signed-up user in the stand-in pool (username = sub, as in a pool that signs in by e-mail). */
function signUp(groups: string[], attributes: Record<string, string> = {}): { sub: string; email: string } {
  const sub = `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
  const email = `user${counter}@example.com`;
  cognito.addUser(sub, groups, { sub, email, ...attributes });
  return { sub, email };
}

/** A post-authentication event as the Cognito developer guide shows it. */
function loginEvent(user: { sub: string; email: string }, attributes: Record<string, string> = {}): PostAuthenticationTriggerEvent {
  return {
    version: '1',
    region: 'us-east-1',
    userPoolId: cognito.userPoolId,
    userName: user.sub,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '1example23456789' },
    triggerSource: 'PostAuthentication_Authentication',
    request: {
      userAttributes: { sub: user.sub, email_verified: 'true', 'cognito:user_status': 'CONFIRMED', email: user.email, ...attributes },
      newDeviceUsed: false,
    },
    response: {},
  };
}

async function memberships(userId: string): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ name: string; role: string }>('SELECT r.name, m.role FROM chat_members m JOIN chat_rooms r ON r.id = m.room_id WHERE m.user_id = $1 ORDER BY r.name', [
    userId,
  ]);
  return Object.fromEntries(rows.map((r) => [r.name, r.role]));
}

const login = (handler: ReturnType<typeof provisioner>, event: PostAuthenticationTriggerEvent) => handler(event) as Promise<PostAuthenticationTriggerEvent>;

describe('user provisioner (post-authentication) against PostgreSQL 17', () => {
  it('creates the user and membership on the first login, and nothing more on the second', async () => {
    const handler = provisioner();
    const user = signUp([], { preferred_username: 'ada', name: 'Ada Lovelace' });
    const event = loginEvent(user, { preferred_username: 'ada', name: 'Ada Lovelace' });

    expect(await login(handler, event)).toEqual(event);
    const users = await db.pool.query('SELECT id, username, display_name FROM users WHERE id = $1', [user.sub]);
    expect(users.rows).toEqual([{ id: user.sub, username: 'ada', display_name: 'Ada Lovelace' }]);
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user' });

    await login(handler, event);
    const counts = await db.pool.query<{ users: string; members: string }>(
      'SELECT (SELECT count(*) FROM users WHERE id = $1) AS users, (SELECT count(*) FROM chat_members WHERE user_id = $1) AS members',
      [user.sub],
    );
    expect(counts.rows[0]).toEqual({ users: '1', members: '1' });
    expect(output.logs('provisioned chat user').map((l) => l.joined)).toEqual([1, 0]);
  });

  it('provisions once when the same new user signs in on two devices at the same moment', async () => {
    const user = signUp(['phenom-internal']);
    await Promise.all([login(provisioner(), loginEvent(user)), login(provisioner(), loginEvent(user))]);
    expect(output.logs('provisioning failed')).toEqual([]);
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user', 'Phenom Internal': 'user' });
    const users = await db.pool.query('SELECT count(*)::int AS n FROM users WHERE id = $1', [user.sub]);
    expect(users.rows[0].n).toBe(1);
  });

  it('looks groups up by Cognito userName, which in a username pool is not the sub', async () => {
    const sub = cognito.addUser('grace.hopper', ['chat-support'], { email: 'grace@example.com' });
    const event = loginEvent({ sub, email: 'grace@example.com' });
    event.userName = 'grace.hopper';
    await login(provisioner(), event);
    expect(await memberships(sub)).toEqual({ 'Phenom Community': 'support', 'Phenom Internal': 'support', 'Phenom Partners': 'support' });
  });

  it.each([
    [[], { 'Phenom Community': 'user' }],
    [['phenom-internal'], { 'Phenom Community': 'user', 'Phenom Internal': 'user' }],
    [['phenom-partners'], { 'Phenom Community': 'user', 'Phenom Partners': 'user' }],
    [['phenom-internal', 'phenom-partners'], { 'Phenom Community': 'user', 'Phenom Internal': 'user', 'Phenom Partners': 'user' }],
    [['chat-support'], { 'Phenom Community': 'support', 'Phenom Internal': 'support', 'Phenom Partners': 'support' }],
    [['chat-admin'], { 'Phenom Community': 'admin', 'Phenom Internal': 'admin', 'Phenom Partners': 'admin' }],
    [['chat-support', 'chat-admin', 'phenom-partners'], { 'Phenom Community': 'admin', 'Phenom Internal': 'admin', 'Phenom Partners': 'admin' }],
    [['some-other-app'], { 'Phenom Community': 'user' }],
  ])('groups %j → memberships %j', async (groups, expected) => {
    const user = signUp(groups);
    await login(provisioner(), loginEvent(user));
    expect(await memberships(user.sub)).toEqual(expected);
  });

  it('follows the groups both ways: raises and lowers the role, removes rooms no longer granted', async () => {
    const handler = provisioner();
    const user = signUp(['phenom-internal']);
    await login(handler, loginEvent(user));
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user', 'Phenom Internal': 'user' });

    cognito.users.get(user.sub)!.groups.add('chat-support');
    await login(handler, loginEvent(user));
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'support', 'Phenom Internal': 'support', 'Phenom Partners': 'support' });

    // The groups own the role: one set by hand is put back, and leaving every group leaves only Community.
    await db.pool.query(`UPDATE chat_members SET role = 'admin' WHERE user_id = $1 AND room_id = (SELECT id FROM chat_rooms WHERE name = 'Phenom Partners')`, [user.sub]);
    await db.pool.query(`UPDATE chat_members SET is_muted = true WHERE user_id = $1 AND room_id = (SELECT id FROM chat_rooms WHERE name = 'Phenom Community')`, [user.sub]);
    cognito.users.get(user.sub)!.groups.clear();
    await login(handler, loginEvent(user));
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user' });
    // A mute is a moderator's, on a row that stays: kept.
    const muted = await db.pool.query('SELECT is_muted FROM chat_members WHERE user_id = $1', [user.sub]);
    expect(muted.rows).toEqual([{ is_muted: true }]);
    expect(output.logs('provisioned chat user').at(-1)).toMatchObject({ joined: 0, roleChanged: 1, left: 2 });
  });

  it('keeps a banned user banned: the ban row stays, the rules trigger still refuses them, a removed membership is not re-added', async () => {
    const handler = provisioner();
    const admin = signUp(['chat-admin']);
    const user = signUp(['phenom-partners']);
    await login(handler, loginEvent(admin));
    await login(handler, loginEvent(user));
    await db.pool.query(`INSERT INTO chat_bans (room_id, user_id, banned_by, reason) SELECT id, $1, $2, 'spam' FROM chat_rooms WHERE name IN ('Phenom Community', 'Phenom Partners')`, [
      user.sub,
      admin.sub,
    ]);
    // A moderator also removed the Partners membership outright.
    await db.pool.query(`DELETE FROM chat_members WHERE user_id = $1 AND room_id = (SELECT id FROM chat_rooms WHERE name = 'Phenom Partners')`, [user.sub]);

    cognito.users.get(user.sub)!.groups.add('chat-support');
    await login(handler, loginEvent(user));

    const bans = await db.pool.query('SELECT count(*)::int AS n FROM chat_bans WHERE user_id = $1 AND expires_at IS NULL', [user.sub]);
    expect(bans.rows[0].n).toBe(2);
    // Not re-added to Partners; Community's membership (kept by the ban, contract C1) is untouched, not promoted.
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user', 'Phenom Internal': 'support' });
    await expect(db.pool.query(`INSERT INTO chat_messages (room_id, user_id, content) SELECT id, $1, 'hello' FROM chat_rooms WHERE name = 'Phenom Community'`, [user.sub])).rejects.toMatchObject({
      code: '23C03',
    });
  });

  it('re-adds a membership once the ban in that room has expired', async () => {
    const handler = provisioner();
    const admin = signUp(['chat-admin']);
    const user = signUp([]);
    await login(handler, loginEvent(admin));
    await db.pool.query(`INSERT INTO users (id, username) VALUES ($1, 'pre-existing')`, [user.sub]);
    await db.pool.query(
      `INSERT INTO chat_bans (room_id, user_id, banned_by, banned_at, expires_at)
       SELECT id, $1, $2, now() - interval '2 days', now() - interval '1 day' FROM chat_rooms WHERE name = 'Phenom Community'`,
      [user.sub, admin.sub],
    );
    await login(handler, loginEvent(user));
    expect(await memberships(user.sub)).toEqual({ 'Phenom Community': 'user' });
  });

  it('follows username and display name changes in Cognito, and never publishes the e-mail address', async () => {
    const handler = provisioner();
    const user = signUp([]);
    await login(handler, loginEvent(user, { name: 'Grace' }));
    await login(handler, loginEvent(user, { preferred_username: 'grace' }));
    const { rows } = await db.pool.query('SELECT username, display_name FROM users WHERE id = $1', [user.sub]);
    expect(rows).toEqual([{ username: 'grace', display_name: 'grace' }]);
    // Neither a name nor a preferred_username: both columns are the e-mail's local part, as Synapse's display name is.
    await login(handler, loginEvent(user));
    const again = await db.pool.query('SELECT username, display_name FROM users WHERE id = $1', [user.sub]);
    const localpart = user.email.split('@')[0];
    expect(again.rows).toEqual([{ username: localpart, display_name: localpart }]);
  });

  it('keeps a display name when the event carries nothing to derive one from', async () => {
    const handler = provisioner();
    const user = signUp([]);
    await login(handler, loginEvent(user, { name: 'Grace' }));
    const event = loginEvent(user);
    delete (event.request.userAttributes as Record<string, string>).email;
    await login(handler, event);
    const { rows } = await db.pool.query('SELECT username, display_name FROM users WHERE id = $1', [user.sub]);
    expect(rows).toEqual([{ username: user.sub, display_name: 'Grace' }]);
  });

  describe('a login never fails because provisioning did', () => {
    let blackHole: Server;
    let blackHolePort: number;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      // Accepts connections and never says a word: what a black-holed RDS endpoint looks like to pg.
      blackHole = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      blackHolePort = (blackHole.address() as { port: number }).port;
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => blackHole.close(resolve));
    });

    const expectFailureHandled = async (run: () => Promise<PostAuthenticationTriggerEvent>, event: PostAuthenticationTriggerEvent) => {
      const started = Date.now();
      expect(await run()).toEqual(event);
      const elapsed = Date.now() - started;
      // Within the provisioning budget, itself well inside Cognito's 5 s.
      expect(elapsed).toBeLessThan(PROVISIONING_BUDGET_MS + 250);
      expect(output.logs('provisioning failed')).toEqual([expect.objectContaining({ level: 'ERROR', userId: event.request.userAttributes.sub })]);
      expect(output.metrics('ProvisioningFailed')).toHaveLength(1);
      return elapsed;
    };

    it('returns the event when the database accepts connections but never answers', async () => {
      const user = signUp([]);
      const event = loginEvent(user);
      const handler = provisioner(`postgres://chat:secret@127.0.0.1:${blackHolePort}/chat`);
      await expectFailureHandled(() => login(handler, event), event);
    });

    it('abandons the work at the overall deadline, whatever step is still waiting', async () => {
      const user = signUp([]);
      const event = loginEvent(user);
      const handler = createPostAuthenticationHandler({
        cognito: cognitoClient(),
        pool: lazyPool(DATABASE_TIMEOUTS, { DATABASE_URL: `postgres://chat:secret@127.0.0.1:${blackHolePort}/chat` }),
        logger: new Logger({ serviceName: 'user-provisioner-test' }),
        metrics: new Metrics({ namespace: 'PhenomChat', serviceName: 'user-provisioner-test' }),
        budgetMs: 300,
      });
      const elapsed = await expectFailureHandled(() => login(handler, event), event);
      expect(elapsed).toBeLessThan(900);
      expect(output.logs('provisioning failed')[0].error).toEqual({ name: 'DeadlineExceeded', message: 'provisioning did not finish within 300 ms' });
    });

    it('returns the event when the database port is closed', async () => {
      const user = signUp([]);
      const event = loginEvent(user);
      const handler = provisioner(`postgres://chat:secret@127.0.0.1:${await freeLoopbackPort()}/chat`);
      await expectFailureHandled(() => login(handler, event), event);
    });

    it('returns the event when a statement waits on a lock (statement_timeout)', async () => {
      const user = signUp([]);
      await login(provisioner(), loginEvent(user));
      const locker = await db.pool.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT * FROM users WHERE id = $1 FOR UPDATE', [user.sub]);
        const event = loginEvent(user, { preferred_username: 'renamed' });
        const elapsed = await expectFailureHandled(() => login(provisioner(), event), event);
        expect(elapsed).toBeGreaterThanOrEqual(900);
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
    });

    it('returns the event when Cognito answers an error for the group lookup', async () => {
      const user = signUp([]);
      const event = loginEvent(user);
      // Both attempts the client makes (one retry) are throttled.
      cognito.failNext('AdminListGroupsForUser', 'TooManyRequestsException', 'Rate exceeded', 2);
      await expectFailureHandled(() => login(provisioner(), event), event);
      expect(await memberships(user.sub)).toEqual({});
    });

    it('returns the event when Cognito is unreachable', async () => {
      const user = signUp([]);
      const event = loginEvent(user);
      const closedPort = await freeLoopbackPort();
      await expectFailureHandled(() => login(provisioner(db.url, `http://127.0.0.1:${closedPort}`), event), event);
    });

    it('logs a malformed event as malformed and writes nothing', async () => {
      const event = loginEvent({ sub: 'x', email: 'x@example.com' });
      delete (event.request.userAttributes as Record<string, string>).sub;
      expect(await login(provisioner(), event)).toEqual(event);
      expect(output.logs('malformed post-authentication event')).toEqual([expect.objectContaining({ level: 'ERROR', reason: 'request.userAttributes.sub is missing' })]);
      expect(output.metrics('ProvisioningMalformedEvent')).toHaveLength(1);
      expect(cognito.calls.filter((c) => c.body.Username === 'x')).toEqual([]);
    });
  });
});
