import { CHAT_ROOMS as BOOTSTRAP_ROOMS, BotCredentials, bootstrapSynapse } from '../../../../lambda/synapse-bootstrap/bootstrap';
import { MatrixClient as BootstrapClient } from '../../../../chat-clients/matrix-client';
import { call as matrixCall, enc, REAL_SYNAPSE, registerAccount, serverNameOf, startTestHomeserver, type Account, type TestHomeserver } from '../../../../test/support/matrix-test-server';
import type { TestDatabase } from '../../../../test/support/postgres';
import { createMigratedDatabase } from '../../../../test/support/postgres/migrated';
import { createBackend } from '../../src/backend';
import type { ChatBackend } from '../../src/backend/types';
import { createLogger } from '../../src/log';
import type { RequestContext } from '../../src/mcp/request-context';
import { callTool } from '../../src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../src/tools';
import { AGENT, ALICE, BOB, seedChat } from './chat-fixture';
import { CognitoStandIn } from './cognito-standin';
import { HasuraStandIn } from './hasura-standin';

/**
 * One chat backend, ready for the conformance suite, built the way the server builds it: through
 * createBackend (src/backend/index.ts) from the environment keys the ECS task sets. postgres runs on
 * the real migrated schema on PostgreSQL 17; hasura on the same schema through the stand-in engine;
 * synapse on the stand-in homeserver, or a real Synapse when SYNAPSE_URL and SYNAPSE_SHARED_SECRET
 * are set (every user and alias then carries a run tag, so the server can be reused). The helpers are
 * the test's own hands (SQL, or the Matrix API as the user concerned), never the code under test.
 */
export interface BackendUnderTest {
  readonly kind: ChatBackend['kind'];
  readonly backend: ChatBackend;
  readonly rooms: { internal: string; partners: string; community: string };
  /** The agent's user id (users.id, or the bot's Matrix id). */
  readonly agent: string;
  /** Two ordinary members of the community room, neither an admin. */
  readonly alice: string;
  readonly bob: string;
  /** Ids in this backend's own format that name no room and no user. */
  readonly unknownRoom: string;
  readonly unknownUser: string;
  /** Adds `count` new users to `roomId` as plain members; returns their ids. */
  addMembers(roomId: string, count: number, prefix: string): Promise<string[]>;
  /** Sets the display name the backend reports for `userId` (in `roomId`, for Matrix). */
  setDisplayName(roomId: string, userId: string, name: string): Promise<void>;
  /** Makes `userId` an admin of `roomId` (chat_members.role, or power level 100). */
  makeAdmin(roomId: string, userId: string): Promise<void>;
  /**
   * Bans the agent in `roomId` as a human admin would (SQL backends only: on Matrix nobody can ban
   * the bot, whose power level is the room's highest). Returns a function that lifts the ban again.
   */
  banAgentAsHuman?(roomId: string): Promise<() => Promise<void>>;
  /** How many messages with exactly this content are stored in the room (soft-deleted rows count; a Matrix redaction erases the content). */
  storedMessages(roomId: string, content: string): Promise<number>;
  stop(): Promise<void>;
}

export const BACKEND_KINDS: ChatBackend['kind'][] = ['postgres', 'hasura', 'synapse'];

/** How long a hook that adds hundreds of members may take: a real Synapse joins them one event at a time. */
export const BULK_SETUP_TIMEOUT_MS = REAL_SYNAPSE ? 600_000 : 60_000;

const silent = createLogger('error', {}, () => undefined);

/** What one tool call returned, as the MCP client would see it, and the outcome the server logged for it. */
export interface CallResult {
  isError?: boolean;
  text: string;
  structured?: Record<string, unknown>;
  /** 'ok', 'invalid_input', or the ChatError code the backend raised. */
  outcome?: string;
}

/**
 * Calls a tool through the tool layer (validation, rendering, error mapping) as an agent with both
 * scopes, or with chat/read alone when `moderate` is false.
 */
export async function call(backend: ChatBackend, tool: string, args: Record<string, unknown>, options: { moderate?: boolean } = {}): Promise<CallResult> {
  const found = TOOLS_BY_NAME.get(tool);
  if (!found) throw new Error(`no tool ${tool}`);
  const moderate = options.moderate ?? true;
  const rc: RequestContext = {
    requestId: 'conformance',
    principal: {
      clientId: 'agent-client',
      subject: 'agent-client',
      scopes: moderate ? ['chat/read', 'chat/moderate'] : ['chat/read'],
      groups: [],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    },
    canModerate: moderate,
    log: silent,
  };
  const result = await callTool(found, args, backend, rc);
  return {
    isError: result.isError,
    text: result.content.map((c) => (c.type === 'text' ? c.text : '')).join(''),
    structured: result.structuredContent as Record<string, unknown> | undefined,
    outcome: rc.outcome,
  };
}

/** The structured result of a call that must succeed. */
export async function ok<T = Record<string, unknown>>(backend: ChatBackend, tool: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(backend, tool, args);
  if (result.isError || !result.structured) throw new Error(`${tool} failed: ${result.text}`);
  return result.structured as T;
}

export async function startBackend(kind: ChatBackend['kind']): Promise<BackendUnderTest> {
  return kind === 'synapse' ? startSynapse() : startSql(kind);
}

async function startSql(kind: 'postgres' | 'hasura'): Promise<BackendUnderTest> {
  const db: TestDatabase = await createMigratedDatabase(`conf${kind}`);
  const { rooms } = await seedChat(db.pool);
  let env: NodeJS.ProcessEnv;
  let stopEngine = async () => undefined as void;
  if (kind === 'postgres') {
    env = { DATABASE_URL: db.url, AGENT_USER_ID: AGENT, PG_POOL_MAX: '4' };
  } else {
    const login = { clientId: 'agentclient0000000000000001', clientSecret: 'agent-secret', loginName: 'agent@chat.test', password: 'Agent-Passw0rd!' };
    const cognito = new CognitoStandIn({ ...login, sub: AGENT, nowSeconds: () => Math.floor(Date.now() / 1000) });
    await cognito.start();
    const hasura = new HasuraStandIn({ pool: db.pool, cognito });
    await hasura.start();
    env = {
      HASURA_ENDPOINT: hasura.url,
      COGNITO_IDP_ENDPOINT: cognito.url,
      AGENT_CLIENT_ID: login.clientId,
      AGENT_CLIENT_SECRET: login.clientSecret,
      AGENT_USERNAME: login.loginName,
      AGENT_PASSWORD: login.password,
    };
    stopEngine = async () => {
      await hasura.stop();
      await cognito.stop();
    };
  }
  const backend = await createBackend(kind, { env, log: silent });
  return {
    kind,
    backend,
    rooms,
    agent: AGENT,
    alice: ALICE,
    bob: BOB,
    unknownRoom: '11111111-1111-4111-8111-111111111111',
    unknownUser: 'ghost',
    async addMembers(roomId, count, prefix) {
      const { rows } = await db.pool.query<{ id: string }>(
        `INSERT INTO users (id, username, display_name) SELECT $1 || lpad(g::text, 6, '0'), $1 || g, 'Member ' || g FROM generate_series(1, $2::int) g RETURNING id`,
        [prefix, count],
      );
      await db.pool.query(`INSERT INTO chat_members (room_id, user_id) SELECT $1, unnest($2::text[])`, [roomId, rows.map((r) => r.id)]);
      return rows.map((r) => r.id);
    },
    async setDisplayName(_roomId, userId, name) {
      await db.pool.query('UPDATE users SET display_name = $2 WHERE id = $1', [userId, name]);
    },
    async makeAdmin(roomId, userId) {
      await db.pool.query(`UPDATE chat_members SET role = 'admin' WHERE room_id = $1 AND user_id = $2`, [roomId, userId]);
    },
    async banAgentAsHuman(roomId) {
      const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO chat_bans (room_id, user_id, banned_by, reason) VALUES ($1, $2, $3, 'set by a human admin') RETURNING id`, [
        roomId,
        AGENT,
        BOB,
      ]);
      return async () => void (await db.pool.query('DELETE FROM chat_bans WHERE id = $1', [rows[0]!.id]));
    },
    async storedMessages(roomId, content) {
      return (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM chat_messages WHERE room_id = $1 AND content = $2', [roomId, content])).rows[0]!.n;
    },
    async stop() {
      await backend.close();
      await stopEngine();
      await db.drop();
    },
  };
}

async function startSynapse(): Promise<BackendUnderTest> {
  const hs = await startTestHomeserver();
  const tagged = BOOTSTRAP_ROOMS.map((r) => ({ ...r, alias: `${r.alias}-${hs.tag}` }));
  let stored: BotCredentials | undefined;
  const { rooms: created } = await bootstrapSynapse({
    client: new BootstrapClient({ baseUrl: hs.baseUrl }),
    sharedSecret: hs.sharedSecret,
    bot: { localpart: `conformance-bot-${hs.tag}`, password: `bot-password-${hs.tag}-0123456789`, displayName: 'Phenom Bot' },
    rooms: tagged,
    store: { load: async () => stored, save: async (c) => void (stored = c) },
  });
  const bot: Account = { userId: stored!.userId, token: stored!.accessToken };
  const serverName = serverNameOf(bot.userId);
  const byAlias = (alias: string) => created.find((r) => r.alias === `#${alias}-${hs.tag}:${serverName}`)!.roomId;
  const rooms = { internal: byAlias('internal'), partners: byAlias('partners'), community: byAlias('community') };
  const tokens = new Map<string, string>([[bot.userId, bot.token]]);
  /** A client-API call as `userId` that must succeed. */
  const as = async (userId: string, method: string, path: string, body?: unknown) => {
    const answer = await matrixCall(hs, tokens.get(userId), method, `/_matrix/client/v3/${path}`, body);
    if (answer.status !== 200) throw new Error(`${method} ${path} as ${userId}: ${answer.status} ${JSON.stringify(answer.json)}`);
    return answer.json;
  };
  const joinAs = async (roomId: string, account: Account) => {
    tokens.set(account.userId, account.token);
    await as(bot.userId, 'POST', `rooms/${enc(roomId)}/invite`, { user_id: account.userId });
    await as(account.userId, 'POST', `rooms/${enc(roomId)}/join`, {});
    return account.userId;
  };
  const alice = await joinAs(rooms.community, await registerAccount(hs, `alice-${hs.tag}`, false, 'Alice'));
  const bob = await joinAs(rooms.community, await registerAccount(hs, `bob-${hs.tag}`, false, 'Bob'));
  const backend = await createBackend('synapse', {
    env: { SYNAPSE_URL: hs.baseUrl, SYNAPSE_BOT_ACCESS_TOKEN: bot.token, MATRIX_SERVER_NAME: serverName, MATRIX_ROOM_ALIASES: tagged.map((r) => r.alias).join(',') },
    log: silent,
  });
  return {
    kind: 'synapse',
    backend,
    rooms,
    agent: bot.userId,
    alice,
    bob,
    unknownRoom: `!nope-${hs.tag}:${serverName}`,
    unknownUser: `@ghost-${hs.tag}:${serverName}`,
    async addMembers(roomId, count, prefix) {
      const ids: string[] = [];
      // A few at a time: a real Synapse takes each join in turn anyway, but user creation overlaps.
      for (let from = 1; from <= count; from += 10) {
        const batch = Array.from({ length: Math.min(10, count - from + 1) }, (_, i) => `${prefix}${String(from + i).padStart(6, '0')}-${hs.tag}`);
        ids.push(...(await Promise.all(batch.map((localpart) => addMember(hs, bot, roomId, localpart)))));
      }
      return ids;
    },
    async setDisplayName(roomId, userId, name) {
      // A member sets their own member event (its state key is their id, so only they may).
      await as(userId, 'PUT', `rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { membership: 'join', displayname: name });
    },
    async makeAdmin(roomId, userId) {
      const levels = await as(bot.userId, 'GET', `rooms/${enc(roomId)}/state/m.room.power_levels/`);
      const users = { ...((levels.users as Record<string, number>) ?? {}), [userId]: 100 };
      await as(bot.userId, 'PUT', `rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...levels, users });
    },
    async storedMessages(roomId, content) {
      const page = await as(bot.userId, 'GET', `rooms/${enc(roomId)}/messages?dir=b&limit=1000`);
      return (page.chunk as Array<{ type: string; content: { body?: unknown } }>).filter((e) => e.type === 'm.room.message' && e.content.body === content).length;
    },
    async stop() {
      await backend.close();
      await hs.close();
    },
  };
}

/**
 * Puts a new user into a room as a plain member. On the stand-in directly (as an accepted invite
 * leaves it): hundreds of HTTP round trips would only slow the test. On a real Synapse through the
 * admin API, which makes the user without a password (no bcrypt) and joins it with the bot's power.
 */
async function addMember(hs: TestHomeserver, bot: Account, roomId: string, localpart: string): Promise<string> {
  if (hs.standIn) {
    const user = hs.standIn.createUser(localpart);
    hs.standIn.join(roomId, user.userId);
    return user.userId;
  }
  const userId = `@${localpart}:${serverNameOf(bot.userId)}`;
  const created = await matrixCall(hs, bot.token, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, {});
  if (created.status !== 201) throw new Error(`creating ${userId} answered ${created.status} ${JSON.stringify(created.json)}`);
  const joined = await matrixCall(hs, bot.token, 'POST', `/_synapse/admin/v1/join/${enc(roomId)}`, { user_id: userId });
  if (joined.status !== 200) throw new Error(`joining ${userId} to ${roomId} answered ${joined.status} ${JSON.stringify(joined.json)}`);
  return userId;
}
